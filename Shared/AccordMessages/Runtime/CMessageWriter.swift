internal import CAccordProto

/// Fills a protobuf-c message struct, allocated in an ``Arena``, from Swift values.
struct CMessageWriter {
    let base: UnsafeMutableRawPointer
    let fields: UnsafePointer<ProtobufCFieldDescriptor>?
    let arena: Arena
    let messageType: String

    /// Allocates and initialises an empty `M` in `arena`.
    static func make<M: CBackedMessage>(_ type: M.Type, in arena: Arena) -> CMessageWriter {
        let descriptor = M.cDescriptor
        let base = arena.allocateUnbounded(descriptor.pointee.sizeof_message)
        protobuf_c_message_init(descriptor, base)
        return CMessageWriter(base: base, fields: descriptor.pointee.fields, arena: arena, messageType: M.protoName)
    }

    private func valueOffset(_ index: Int) -> Int { Int(self.fields![index].offset) }

    private func markPresent(_ index: Int) {
        self.base.storeBytes(of: 1, toByteOffset: Int(self.fields![index].quantifier_offset), as: Int32.self)
    }

    private func storeArray<T>(
        _ index: Int,
        _ items: [T],
        _ convert: (T) throws(MessageEncodingError) -> some BitwiseCopyable
    )
        throws(MessageEncodingError)
    {
        guard !items.isEmpty else { return }
        var stride = 0
        var storage: UnsafeMutableRawPointer?
        for (position, item) in items.enumerated() {
            let value = try convert(item)
            if storage == nil {
                stride = MemoryLayout.stride(ofValue: value)
                storage = self.arena.allocateUnbounded(stride * items.count)
            }
            storage!.storeBytes(of: value, toByteOffset: position * stride, as: type(of: value))
        }
        self.base.storeBytes(of: items.count, toByteOffset: Int(self.fields![index].quantifier_offset), as: Int.self)
        self.base.storeBytes(
            of: UnsafeRawPointer(storage),
            toByteOffset: self.valueOffset(index),
            as: UnsafeRawPointer?.self
        )
    }

    func setScalar<T: BitwiseCopyable>(_ index: Int, _ value: T?) {
        guard let value else { return }
        self.markPresent(index)
        self.base.storeBytes(of: value, toByteOffset: self.valueOffset(index), as: T.self)
    }

    func setBool(_ index: Int, _ value: Bool?) {
        self.setScalar(index, value.map { Int32($0 ? 1 : 0) })
    }

    func setEnumValue(_ index: Int, _ value: Int32?) {
        self.setScalar(index, value)
    }

    func setString(_ index: Int, _ value: String?) throws(MessageEncodingError) {
        guard let value else { return }
        let pointer = try self.cString(value, index)
        self.base.storeBytes(of: pointer, toByteOffset: self.valueOffset(index), as: UnsafeRawPointer?.self)
    }

    func setBytes(_ index: Int, _ value: [UInt8]?) {
        guard let value else { return }
        self.markPresent(index)
        self.base.storeBytes(
            of: self.binary(value),
            toByteOffset: self.valueOffset(index),
            as: ProtobufCBinaryData.self
        )
    }

    func setMessage<M: CBackedMessage>(_ index: Int, _ value: M?) throws(MessageEncodingError) {
        guard let value else { return }
        let child = CMessageWriter.make(M.self, in: self.arena)
        try value.write(to: child)
        self.base.storeBytes(
            of: UnsafeRawPointer(child.base),
            toByteOffset: self.valueOffset(index),
            as: UnsafeRawPointer?.self
        )
    }

    func setScalars<T: BitwiseCopyable>(_ index: Int, _ values: [T]) {
        try! self.storeArray(index, values) { $0 }
    }

    func setBools(_ index: Int, _ values: [Bool]) {
        try! self.storeArray(index, values) { Int32($0 ? 1 : 0) }
    }

    func setEnumValues(_ index: Int, _ values: [Int32]) {
        self.setScalars(index, values)
    }

    func setStrings(_ index: Int, _ values: [String]) throws(MessageEncodingError) {
        try self.storeArray(index, values) { (value) throws(MessageEncodingError) in try self.cString(value, index) }
    }

    func setBytesList(_ index: Int, _ values: [[UInt8]]) {
        try! self.storeArray(index, values) { self.binary($0) }
    }

    func setMessages<M: CBackedMessage>(_ index: Int, _ values: [M]) throws(MessageEncodingError) {
        try self.storeArray(index, values) { (value) throws(MessageEncodingError) in
            let child = CMessageWriter.make(M.self, in: self.arena)
            try value.write(to: child)
            return UnsafeRawPointer(child.base)
        }
    }

    private func cString(_ value: String, _ index: Int) throws(MessageEncodingError) -> UnsafeRawPointer {
        if value.utf8.contains(0) {
            throw .stringContainsNUL(messageType: self.messageType, field: String(cString: self.fields![index].name))
        }
        var value = value
        return value.withUTF8 { utf8 in
            let storage = self.arena.allocateUnbounded(utf8.count + 1)
            if let source = utf8.baseAddress {
                storage.copyMemory(from: source, byteCount: utf8.count)
            }
            storage.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return UnsafeRawPointer(storage)
        }
    }

    private func binary(_ value: [UInt8]) -> ProtobufCBinaryData {
        guard !value.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let storage = self.arena.allocateUnbounded(value.count)
        value.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return ProtobufCBinaryData(len: value.count, data: storage.assumingMemoryBound(to: UInt8.self))
    }
}
