import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordSheets
import Foundation

extension IntakeService {
    /// On a database with no agency yet, imports every ICE sheet (`*.csv`) in `directory`:
    /// files with "pending" in their name as pending lists, the others as participating lists,
    /// participating first. Logs the counts of each file and every rejected row.
    public func importSeedsIfNew(directory: String) async throws {
        guard try await self.store.agencyCount() == 0 else { return }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".csv") }
            .sorted { ($0.contains("pending") ? 1 : 0, $0) < ($1.contains("pending") ? 1 : 0, $1) }
        for name in names {
            let text = try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
            let rows = try ICESheet.rows(csv: text)
            let kind: SheetKind = name.contains("pending") ? .pending : .participating
            let sheet = String(name.dropLast(4))
            var totals = (read: 0, imported: 0, unchanged: 0, rejected: 0)
            var start = 0
            while start < rows.count {
                let chunk = Array(rows[start..<min(start + Self.maxRowsPerImport, rows.count)])
                let context = ServerContext.local(
                    method: IntakeMethods.importSheet.path,
                    principal: Principal(role: .programOffice, name: "seed"),
                    logger: self.logger
                )
                let answer = try await self.importSheet(
                    ImportSheetRequest(kind: kind, sheet: sheet, rows: chunk),
                    context
                )
                totals.read += Int(answer.read ?? 0)
                totals.imported += Int(answer.imported ?? 0)
                totals.unchanged += Int(answer.unchanged ?? 0)
                totals.rejected += Int(answer.rejected ?? 0)
                for rejection in answer.rejections {
                    self.logger.warning(
                        "Seed row rejected",
                        metadata: [
                            "file": "\(name)", "line": "\(rejection.line ?? 0)", "reason": "\(rejection.reason ?? "")",
                        ]
                    )
                }
                start += Self.maxRowsPerImport
            }
            self.logger.info(
                "Seeded ICE sheet",
                metadata: [
                    "file": "\(name)", "read": "\(totals.read)", "imported": "\(totals.imported)",
                    "unchanged": "\(totals.unchanged)", "rejected": "\(totals.rejected)",
                ]
            )
        }
    }
}
