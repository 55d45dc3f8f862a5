import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

extension IntakeService {
    static func validate(_ agency: Agency?, prefix: String) throws -> AgencyFields {
        guard let agency else { throw RPCError.invalidArgument(field: prefix, "is required") }
        let state = try IntakeValidation.state(agency.state, field: "\(prefix).state")
        let fields = AgencyFields(
            state: state,
            name: try IntakeValidation.text(agency.name, field: "\(prefix).name"),
            type: try IntakeValidation.known(agency.type, field: "\(prefix).type"),
            county: Normalize.county(try IntakeValidation.optionalText(agency.county, field: "\(prefix).county")),
            ori: try IntakeValidation.ori(agency.ori, state: state, field: "\(prefix).ori"),
            hasJail: agency.hasJail,
            jailCapacity: agency.jailCapacity
        )
        try self.validateJail(fields, prefix: prefix)
        return fields
    }

    private static func validateJail(_ fields: AgencyFields, prefix: String) throws {
        guard let capacity = fields.jailCapacity else { return }
        guard capacity <= 100_000 else {
            throw RPCError.invalidArgument(field: "\(prefix).jail_capacity", "\(capacity) is more than 100000")
        }
        guard fields.hasJail == true || capacity == 0 else {
            throw RPCError.invalidArgument(field: "\(prefix).jail_capacity", "is set but has_jail is not true")
        }
    }

    func registerAgency(_ request: RegisterAgencyRequest, _ context: ServerContext) async throws -> Agency {
        let fields = try Self.validate(request.agency, prefix: "agency")
        return try await self.store.registerAgency(fields, self.stamp(context, why: try Self.reason(request.reason)))
    }

    /// The fields `UpdateAgency` can empty.
    static let clearableAgencyFields = ["county", "ori", "has_jail", "jail_capacity"]

    func updateAgency(_ request: UpdateAgencyRequest, _ context: ServerContext) async throws -> Agency {
        guard let patch = request.agency, let id = patch.id else {
            throw RPCError.invalidArgument(field: "agency.id", "is required")
        }
        guard let rowid = IntakeRecords.rowid(id, prefix: "ag") else {
            throw RPCError.invalidArgument(field: "agency.id", "\(id) is not an agency id")
        }
        try self.requireAgencyAccess(try self.principal(context), agencyRowid: rowid, write: true)
        let change = self.stamp(context, why: try Self.reason(request.reason))
        let clear = try Self.fieldsToClear(request.clear, patch: patch)
        return try await self.store.updateAgency(rowid: rowid, change) { current in
            try Self.validate(Self.merge(current, patch, clearing: clear), prefix: "agency")
        }
    }

    /// The names in `clear`, refused when one cannot be cleared or is also given.
    static func fieldsToClear(_ names: [String], patch: Agency) throws -> Set<String> {
        let given = [
            "county": patch.county != nil, "ori": patch.ori != nil, "has_jail": patch.hasJail != nil,
            "jail_capacity": patch.jailCapacity != nil,
        ]
        for name in names {
            guard Self.clearableAgencyFields.contains(name) else {
                throw RPCError.invalidArgument(
                    field: "clear",
                    "\(name) cannot be cleared (only \(Self.clearableAgencyFields.joined(separator: ", ")))"
                )
            }
            if given[name] == true {
                throw RPCError.invalidArgument(field: "clear", "\(name) is both given and cleared")
            }
        }
        return Set(names)
    }

    /// The current agency with the patch's given fields replaced and the cleared ones emptied.
    static func merge(_ current: Agency, _ patch: Agency, clearing clear: Set<String>) -> Agency {
        var merged = current
        if let value = patch.state { merged.state = value }
        if let value = patch.name { merged.name = value }
        if let value = patch.type { merged.type = value }
        if let value = patch.county { merged.county = value }
        if let value = patch.ori { merged.ori = value }
        if let value = patch.hasJail { merged.hasJail = value }
        if let value = patch.jailCapacity { merged.jailCapacity = value }
        if clear.contains("county") { merged.county = nil }
        if clear.contains("ori") { merged.ori = nil }
        if clear.contains("has_jail") { merged.hasJail = nil }
        if clear.contains("jail_capacity") { merged.jailCapacity = nil }
        return merged
    }

    func getAgency(_ request: GetAgencyRequest, _ context: ServerContext) async throws -> Agency {
        let key = try IntakeValidation.text(request.agency, field: "agency", maxLength: 40)
        let principal = try self.principal(context)
        let found: Agency?
        if let rowid = IntakeRecords.rowid(key, prefix: "ag") {
            found = try await self.store.agency(rowid: rowid)
        } else {
            found = try await self.store.agency(ori: key.uppercased())
        }
        guard let agency = found else {
            throw RPCError(.notFound, "agency \(key) not found (give an agency id or an ORI)")
        }
        try self.requireAgencyAccess(principal, agencyRowid: RecordID.rowid(of: agency.id), write: false)
        return agency
    }

    /// An agency list's filters, checked, and the fingerprint that ties a page token to them.
    static func agencyFilter(
        state: String?,
        type: AgencyType?,
        county: String?,
        namePrefix: String?,
        onlyRowid: Int64?
    ) throws -> (filter: AgencyFilter, fingerprint: [String]) {
        var filter = AgencyFilter(onlyRowid: onlyRowid)
        filter.state = try state.map { try IntakeValidation.state($0, field: "state") }
        filter.type = try type.map { try IntakeValidation.known($0, field: "type") }
        filter.county = try IntakeValidation.optionalText(county, field: "county")
        filter.nameKeyPrefix = try IntakeValidation.optionalText(namePrefix, field: "name_prefix").map(Normalize.key)
        let fingerprint = [
            filter.state.map { "state=\($0)" }, filter.type.map { "type=\($0.rawValue)" },
            filter.county.map { "county=\($0.lowercased())" }, filter.nameKeyPrefix.map { "prefix=\($0)" },
            onlyRowid.map { "only=\($0)" },
        ]
        return (filter, fingerprint.compactMap { $0 })
    }

    func listAgencies(_ request: ListAgenciesRequest, _ context: ServerContext) async throws -> ListAgenciesResponse {
        let (filter, fingerprint) = try Self.agencyFilter(
            state: request.state,
            type: request.type,
            county: request.county,
            namePrefix: request.namePrefix,
            onlyRowid: try self.agencyLimit(try self.principal(context))
        )
        let size = try PageToken.size(request.page)
        let after = try PageToken.decode(request.page, filters: fingerprint)
        let agencies = try await self.store.agencies(filter, after: after.afterRowid, limit: size + 1)
        let (page, next) = PageToken.split(agencies, size: size, filters: fingerprint) {
            RecordID.rowid(of: $0.id)
        }
        return ListAgenciesResponse(agencies: Array(page), page: next)
    }

    func exportAgencies(
        _ request: ExportAgenciesRequest,
        _ context: ServerContext,
        _ stream: ResponseStream<Agency>
    ) async throws {
        let (filter, _) = try Self.agencyFilter(
            state: request.state,
            type: nil,
            county: nil,
            namePrefix: nil,
            onlyRowid: try self.agencyLimit(try self.principal(context))
        )
        var after: Int64 = 0
        while true {
            let batch = try await self.store.agencies(filter, after: after, limit: 500)
            for agency in batch { try await stream.send(agency) }
            guard batch.count == 500, let last = batch.last else { return }
            after = RecordID.rowid(of: last.id)
        }
    }
}
