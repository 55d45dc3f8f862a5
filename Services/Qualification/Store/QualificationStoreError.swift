import AccordRPC

/// What qualification's store refuses, with the status each is answered with.
enum QualificationStoreError: Error, RPCErrorConvertible {
    case officerNotFound(String)
    case ruleSetExists(String)

    var rpcError: RPCError {
        switch self {
        case .officerNotFound(let id):
            return RPCError(.notFound, "officer \(id) not found")
        case .ruleSetExists(let version):
            return RPCError(.alreadyExists, "rule set \(version) was published before; give a new version")
        }
    }
}
