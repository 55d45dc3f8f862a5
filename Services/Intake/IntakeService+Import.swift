import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

extension IntakeService {
    /// Normalizes one row: trims, case-folds the model and type, reads `#N/A` counties as none,
    /// and refuses (with the reason) what it cannot read. It never guesses.
    static func parse(_ row: SheetRow, kind: SheetKind, today: CalendarDate) -> ParsedSheetRow {
        guard let name = row.agency.map(Normalize.trimmed), !name.isEmpty else {
            return .rejected("agency name is missing")
        }
        guard name.count <= IntakeValidation.maxNameLength else { return .rejected("agency name is too long") }
        guard let stateText = row.state.map(Normalize.trimmed), !stateText.isEmpty else {
            return .rejected("state is missing")
        }
        guard let state = USStates.code(for: stateText) else { return .rejected("unknown state \"\(stateText)\"") }
        guard let typeText = row.type, let type = Normalize.agencyType(typeText) else {
            return .rejected("unknown agency type \"\(Normalize.trimmed(row.type ?? ""))\"")
        }
        guard let modelText = row.supportType, let model = Normalize.model(modelText) else {
            return .rejected("unknown model \"\(Normalize.trimmed(row.supportType ?? ""))\"")
        }
        let fields = AgencyFields(
            state: state,
            name: name,
            type: type,
            county: Normalize.county(row.county),
            ori: nil,
            hasJail: nil,
            jailCapacity: nil
        )
        switch kind {
        case .pending:
            return .pending(fields, model)
        default:
            guard let signedText = row.signed.map(Normalize.trimmed), !signedText.isEmpty else {
                return .rejected("signed date is missing")
            }
            guard let signed = CalendarDate(sheet: signedText) else {
                return .rejected("signed date \"\(signedText)\" is not a date")
            }
            // The program's first agreements were signed in 2002.
            guard signed.year >= 2002, signed <= today else {
                return .rejected("signed date \(signed) is implausible")
            }
            let moa = row.moa.map(Normalize.trimmed).flatMap { $0.isEmpty ? nil : $0 }
            return .participating(fields, model, signedOn: signed, moa: moa)
        }
    }

    func importSheet(_ request: ImportSheetRequest, _ context: ServerContext) async throws -> ImportSheetResponse {
        let kind = try IntakeValidation.known(request.kind, field: "kind")
        let sheet = try IntakeValidation.text(request.sheet, field: "sheet", maxLength: 100)
        guard request.rows.count <= Self.maxRowsPerImport else {
            throw RPCError.invalidArgument(field: "rows", "send at most \(Self.maxRowsPerImport) rows per call")
        }
        let today = self.today
        let parsed = request.rows.map { (line: $0.line ?? 0, row: Self.parse($0, kind: kind, today: today)) }
        return try await self.store.importRows(parsed, sheet: sheet, self.stamp(context, why: nil))
    }

    func listImportedAgreements(
        _ request: ListImportedAgreementsRequest,
        _ context: ServerContext
    ) async throws
        -> ListImportedAgreementsResponse
    {
        let agencyRowid: Int64? = try request.agencyId.map { id in
            guard let rowid = IntakeRecords.rowid(id, prefix: "ag") else {
                throw RPCError.invalidArgument(field: "agency_id", "\(id) is not an agency id")
            }
            return rowid
        }
        if let only = try self.agencyLimit(try self.principal(context)), agencyRowid != only {
            throw RPCError(.permissionDenied, "an agency sees only its own agreements: give its agency_id")
        }
        let fingerprint = agencyRowid.map { ["agency=\($0)"] } ?? []
        let size = try PageToken.size(request.page)
        let after = try PageToken.decode(request.page, filters: fingerprint)
        let found = try await self.store.importedAgreements(
            agencyRowid: agencyRowid,
            after: after.afterRowid,
            limit: size + 1
        )
        let (page, next) = PageToken.split(found, size: size, filters: fingerprint) { $0.rowid }
        return ListImportedAgreementsResponse(agreements: page.map(\.agreement), page: next)
    }
}
