import AccordMessages
import AccordRPC
import AccordServiceKit

/// Who may do what in intake (ARCHITECTURE.md, "Trust"): an agency sees and changes only its own
/// records; the program office and operators change anything; auditors and supervisors read.
extension IntakeService {
    /// The caller, or UNAUTHENTICATED when no interceptor established one.
    func principal(_ context: ServerContext) throws -> Principal {
        guard let principal = context.principal else {
            throw RPCError(.unauthenticated, "the call carries no principal")
        }
        return principal
    }

    /// Reading (`write` false) or changing the records of one agency.
    func requireAgencyAccess(_ principal: Principal, agencyRowid: Int64, write: Bool) throws {
        switch principal.role {
        case .agency:
            guard principal.scope == IntakeRecords.agencyID(agencyRowid) else {
                throw RPCError(
                    .permissionDenied,
                    "\(principal.header) may not \(write ? "change" : "see") agency \(IntakeRecords.agencyID(agencyRowid))"
                )
            }
        case .auditor, .supervisor:
            guard !write else { throw RPCError(.permissionDenied, "\(principal.header) may only read") }
        case .programOffice, .operator:
            return
        }
    }

    /// For lists: the one agency an agency principal is limited to, or nil for everyone else.
    func agencyLimit(_ principal: Principal) throws -> Int64? {
        guard principal.role == .agency else { return nil }
        guard let scope = principal.scope, let rowid = IntakeRecords.rowid(scope, prefix: "ag") else {
            throw RPCError(.permissionDenied, "\(principal.header) is not scoped to an agency id")
        }
        return rowid
    }
}
