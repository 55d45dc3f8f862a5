import AccordCalendar
import AccordMessages
import AccordPaging
import AccordRPC
import AccordServiceKit

/// Federal supervisors: created, assigned to agreements or to one officer's authorization.
extension SupervisionService {
    // MARK: Supervisors

    func createSupervisor(_ request: CreateSupervisorRequest, _ context: ServerContext) async throws -> Supervisor {
        let principal = try self.caller(context)
        guard let supervisor = request.supervisor else {
            throw RPCError.invalidArgument(field: "supervisor", "is required")
        }
        let name = try Self.text(supervisor.name, field: "supervisor.name")!
        let component = try Self.known(supervisor.component, field: "supervisor.component")!
        let office = try Self.text(supervisor.office, field: "supervisor.office")!
        let change = self.stamp(principal)
        return try await self.store.write { tx in
            try tx.requireSupervisor(try tx.insertSupervisor(name: name, component: component, office: office, change))
        }
    }

    /// What a supervisor is assigned to: an agreement, or one officer's authorization.
    enum AssignmentTarget: Sendable {
        case agreement(Int64)
        case officer(String)
    }

    func assignSupervisor(_ request: AssignSupervisorRequest, _ context: ServerContext) async throws -> Supervisor {
        let principal = try self.caller(context)
        let supervisor = try Self.rowid(
            request.supervisorId,
            prefix: "sv",
            field: "supervisor_id",
            what: "a supervisor"
        )
        let reason = try Self.text(request.reason, field: "reason", max: 500, optional: true)
        let target: AssignmentTarget
        switch (request.agreementId, request.officerId) {
        case (let agreement?, nil):
            target = .agreement(try Self.rowid(agreement, prefix: "mo", field: "agreement_id", what: "an agreement"))
        case (nil, let officer?):
            guard !officer.isEmpty, officer.count <= 40 else {
                throw RPCError.invalidArgument(field: "officer_id", "is not an officer id")
            }
            target = .officer(officer)
        default:
            throw RPCError.invalidArgument(field: "agreement_id", "give exactly one of agreement_id and officer_id")
        }
        let change = self.stamp(principal, why: reason)
        return try await self.store.write { tx in
            let assigned = try tx.requireSupervisor(supervisor)
            switch target {
            case .agreement(let rowid): try Self.assign(tx, assigned, agreement: rowid, change)
            case .officer(let officer): try Self.assign(tx, assigned, officer: officer, change)
            }
            return assigned
        }
    }

    /// Assigns a supervisor of the agreement's federal partner to an open agreement.
    static func assign(
        _ tx: any SupervisionRecords,
        _ assigned: Supervisor,
        agreement rowid: Int64,
        _ change: Change
    )
        throws
    {
        let agreement = try tx.agreement(rowid, allowed: Self.openStatuses, action: "assign a supervisor")
        guard agreement.partner == assigned.component else {
            throw RPCError(
                .failedPrecondition,
                "supervisor \(assigned.id!) is \(assigned.component!.protoName); agreement \(agreement.id!) is with \(agreement.partner!.protoName)"
            )
        }
        let supervisor = RecordID.rowid(of: assigned.id)
        try tx.updateAgreement(rowid, AgreementUpdate(supervisor: supervisor))
        try tx.audit("agreement", rowid, "assign:\(assigned.id!)", change)
        try tx.recordAssignment(agreement: rowid, authorization: nil, supervisor: supervisor, from: nil, change)
    }

    /// Assigns a supervisor to the officer's authorization in force.
    static func assign(_ tx: any SupervisionRecords, _ assigned: Supervisor, officer: String, _ change: Change) throws {
        guard let authorization = try tx.liveAuthorization(officerID: officer) else {
            throw RPCError(.failedPrecondition, "officer \(officer) holds no authorization to supervise")
        }
        let supervisor = RecordID.rowid(of: assigned.id)
        try tx.updateAuthorization(authorization, AuthorizationUpdate(supervisor: supervisor))
        try tx.audit("authorization", authorization, "assign:\(assigned.id!)", change)
        try tx.recordAssignment(agreement: nil, authorization: authorization, supervisor: supervisor, from: nil, change)
    }

    func getSupervisor(_ request: GetSupervisorRequest, _ context: ServerContext) async throws -> Supervisor {
        _ = try self.caller(context)
        let rowid = try Self.rowid(request.supervisorId, prefix: "sv", field: "supervisor_id", what: "a supervisor")
        guard let supervisor = try await self.store.read({ tx in try tx.supervisor(rowid) }) else {
            throw RPCError(.notFound, "no supervisor \(Self.id("sv", rowid))")
        }
        return supervisor
    }

    func listSupervisors(
        _ request: ListSupervisorsRequest,
        _ context: ServerContext
    ) async throws -> ListSupervisorsResponse {
        _ = try self.caller(context)
        let size = try PageToken.size(request.page)
        let start = try PageToken.decode(request.page, filters: []).afterRowid
        let supervisors = try await self.store.read { tx in try tx.supervisors(after: start, limit: size + 1) }
        let (page, next) = PageToken.split(supervisors, size: size, filters: []) { RecordID.rowid(of: $0.id) }
        return ListSupervisorsResponse(supervisors: Array(page), page: next)
    }
}
