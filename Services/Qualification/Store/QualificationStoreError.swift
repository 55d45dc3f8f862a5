import AccordRPC

/// What qualification's store refuses, with the status each is answered with.
enum QualificationStoreError: Error, RPCErrorConvertible {
    case officerNotFound(String)
    case ruleSetExists(String)
    case proposalExists(String)
    case proposalNotFound(String)
    /// The approver is the proposer (named).
    case sameApprover(String)

    var rpcError: RPCError {
        switch self {
        case .officerNotFound(let id):
            return RPCError(.notFound, "officer \(id) not found")
        case .ruleSetExists(let version):
            return RPCError(.alreadyExists, "rule set \(version) was published before; give a new version")
        case .proposalExists(let version):
            return RPCError(
                .alreadyExists,
                "rule set \(version) is proposed already, awaiting approval; give a new version"
            )
        case .proposalNotFound(let version):
            return RPCError(.notFound, "no rule set \(version) awaits approval")
        case .sameApprover(let proposer):
            return RPCError(
                .permissionDenied,
                "\(proposer) proposed this rule set: another program-office principal approves it"
            )
        }
    }
}
