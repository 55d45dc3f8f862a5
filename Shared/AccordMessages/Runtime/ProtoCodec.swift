internal import CAccordProto

/// A generated message type backed by a protobuf-c descriptor.
protocol CBackedMessage: ProtoMessage {
    static var cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { get }
    /// Field numbers in descriptor order; checked against the descriptor by the tests.
    static var fieldNumbers: [UInt32] { get }
    init(reading reader: CMessageReader)
    func write(to writer: CMessageWriter) throws(MessageEncodingError)
}

/// Packs and unpacks generated messages with protobuf-c.
enum ProtoCodec {
    static func withEncoded<M: CBackedMessage, R>(
        _ message: M,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        let arena = Arena.make(inlineBytes: 2048)
        let writer = CMessageWriter.make(M.self, in: arena)
        try message.write(to: writer)
        let message = UnsafeRawPointer(writer.base).assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(message)
        let out = arena.allocateUnbounded(size)
        let written = protobuf_c_message_pack(message, out.assumingMemoryBound(to: UInt8.self))
        precondition(written == size, "protobuf-c packed \(written) bytes of \(size)")
        return try body(UnsafeRawBufferPointer(start: out, count: size))
    }

    static func decode<M: CBackedMessage>(
        _ type: M.Type,
        from bytes: UnsafeRawBufferPointer,
        limits: DecodeLimits
    ) throws(MessageDecodingError) -> M {
        guard bytes.count <= limits.maxMessageBytes else {
            throw .tooLarge(size: bytes.count, limit: limits.maxMessageBytes)
        }
        switch StringFieldCheck.check(bytes, M.cDescriptor) {
        case .fine:
            break
        case .violation(let violation):
            throw .invalidString(
                messageType: M.protoName,
                field: violation.field,
                problem: violation.problem == .nul
                    ? "contains a NUL character (U+0000), which is not allowed in a string"
                    : "is not valid UTF-8"
            )
        case .tooDeep:
            throw .malformed(messageType: M.protoName)
        }
        let arena = Arena.make(budget: limits.maxAllocationBytes, inlineBytes: min(4096, 256 + bytes.count * 2))
        let unmanaged = Unmanaged.passUnretained(arena)
        var allocator = ProtobufCAllocator(
            alloc: { data, size in
                Unmanaged<Arena>.fromOpaque(data!).takeUnretainedValue().allocate(size)
            },
            free: { _, _ in },
            allocator_data: unmanaged.toOpaque()
        )
        let start = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let empty: UInt8 = 0
        let unpacked = withUnsafePointer(to: empty) { emptyPointer in
            protobuf_c_message_unpack(M.cDescriptor, &allocator, bytes.count, start ?? emptyPointer)
        }
        guard let unpacked else {
            if arena.exceededBudget {
                throw .allocationLimitExceeded(limit: limits.maxAllocationBytes)
            }
            throw .malformed(messageType: M.protoName)
        }
        let result = M(reading: CMessageReader(base: UnsafeRawPointer(unpacked), descriptor: M.cDescriptor))
        withExtendedLifetime(arena) {}
        return result
    }

    /// The names and numbers of `M`'s fields as its descriptor lists them.
    static func descriptorFields<M: CBackedMessage>(_ type: M.Type) -> [(name: String, number: UInt32)] {
        let descriptor = M.cDescriptor.pointee
        return (0..<Int(descriptor.n_fields)).map {
            (String(cString: descriptor.fields[$0].name), descriptor.fields[$0].id)
        }
    }
}
