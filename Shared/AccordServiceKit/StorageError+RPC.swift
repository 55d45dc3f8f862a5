public import AccordRPC
public import AccordStorage

/// A storage that cannot be reached is UNAVAILABLE, naming it (the caller may try again); any
/// other storage failure is INTERNAL, its details left in the service's log.
extension StorageError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self.kind {
        case .unavailable: RPCError(.unavailable, self.description)
        case .conflict: RPCError(.aborted, "the write met concurrent ones too often; try again")
        case .failed: RPCError(.internal, "internal error (storage)")
        }
    }
}
