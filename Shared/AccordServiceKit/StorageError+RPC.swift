public import AccordRPC
public import AccordStorage

/// A storage that cannot be reached or written is UNAVAILABLE, naming it (the caller may try
/// again); a full one RESOURCE_EXHAUSTED, saying so (reads go on; writes resume once there is
/// room); any other storage failure is INTERNAL, its details left in the service's log.
extension StorageError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self.kind {
        case .unavailable: RPCError(.unavailable, self.description)
        case .readOnly:
            RPCError(.unavailable, "\(self.description) (reads go on; writes resume once it can be written)")
        case .full: RPCError(.resourceExhausted, "\(self.description) (reads go on; writes resume once there is room)")
        case .conflict: RPCError(.aborted, "the write met concurrent ones too often; try again")
        case .failed: RPCError(.internal, "internal error (storage)")
        }
    }
}
