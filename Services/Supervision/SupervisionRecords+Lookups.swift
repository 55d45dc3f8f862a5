import AccordMessages
import AccordRPC

/// Look-ups that must find their record: NOT_FOUND, naming it, when they do not.
extension AgreementRecords {
    func requireAgreement(_ rowid: Int64) throws -> Agreement {
        guard let agreement = try self.agreement(rowid) else {
            throw RPCError(.notFound, "agreement \(SupervisionRows.id("mo", rowid)) not found")
        }
        return agreement
    }

    /// An agreement for a change: NOT_FOUND, or FAILED_PRECONDITION naming its status when it is
    /// not in one of `allowed`.
    func agreement(_ rowid: Int64, allowed: [AgreementStatus], action: String) throws -> Agreement {
        let agreement = try self.requireAgreement(rowid)
        guard let status = agreement.status, allowed.contains(status) else {
            throw RPCError(
                .failedPrecondition,
                "agreement \(agreement.id!) is \(agreement.status?.protoName ?? "?"): cannot \(action)",
                details: ErrorDetails(
                    reason: "AGREEMENT_STATUS",
                    metadata: [KeyValue(key: "status", value: agreement.status?.protoName)]
                )
            )
        }
        return agreement
    }
}

extension SupervisorRecords {
    func requireSupervisor(_ rowid: Int64) throws -> Supervisor {
        guard let supervisor = try self.supervisor(rowid) else {
            throw RPCError(.notFound, "supervisor \(SupervisionRows.id("sv", rowid)) not found")
        }
        return supervisor
    }
}

extension AuthorizationRecords {
    func requireAuthorization(_ rowid: Int64) throws -> Authorization {
        guard let authorization = try self.authorization(rowid) else {
            throw RPCError(.notFound, "authorization \(SupervisionRows.id("az", rowid)) not found")
        }
        return authorization
    }
}

extension ActionRecords {
    func requireAction(_ rowid: Int64) throws -> DelegatedAction {
        guard let action = try self.action(rowid) else {
            throw RPCError(.notFound, "action \(SupervisionRows.id("ac", rowid)) not found")
        }
        return action
    }
}

extension OversightRecords {
    func requireComplaint(_ rowid: Int64) throws -> Complaint {
        guard let complaint = try self.complaint(rowid) else {
            throw RPCError(.notFound, "complaint \(SupervisionRows.id("cp", rowid)) not found")
        }
        return complaint
    }

    func requireInspection(_ rowid: Int64) throws -> Inspection {
        guard let inspection = try self.inspection(rowid) else {
            throw RPCError(.notFound, "inspection \(SupervisionRows.id("in", rowid)) not found")
        }
        return inspection
    }
}
