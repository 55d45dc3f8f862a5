internal import CAccordProto

/// Reads the fields of an unpacked protobuf-c message through its descriptor.
///
/// `index` is the field's position in the descriptor (fields sorted by number); the generated
/// types pass it, and a test checks that every generated index matches its descriptor.
struct CMessageReader {
    let base: UnsafeRawPointer
    let fields: UnsafePointer<ProtobufCFieldDescriptor>?

    init(base: UnsafeRawPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>) {
        self.base = base
        self.fields = descriptor.pointee.fields
    }

    private func valueOffset(_ index: Int) -> Int { Int(self.fields![index].offset) }

    /// Whether an optional field with a `has_` flag is present.
    private func has(_ index: Int) -> Bool {
        self.base.load(fromByteOffset: Int(self.fields![index].quantifier_offset), as: Int32.self) != 0
    }

    private func count(_ index: Int) -> Int {
        self.base.load(fromByteOffset: Int(self.fields![index].quantifier_offset), as: Int.self)
    }

    private func array(_ index: Int) -> UnsafeRawPointer? {
        self.base.load(fromByteOffset: self.valueOffset(index), as: UnsafeRawPointer?.self)
    }

    func scalar<T: BitwiseCopyable>(_ index: Int, as type: T.Type) -> T? {
        guard self.has(index) else { return nil }
        return self.base.load(fromByteOffset: self.valueOffset(index), as: T.self)
    }

    func bool(_ index: Int) -> Bool? {
        self.scalar(index, as: Int32.self).map { $0 != 0 }
    }

    func enumValue(_ index: Int) -> Int32? {
        self.scalar(index, as: Int32.self)
    }

    func string(_ index: Int) -> String? {
        self.base.load(fromByteOffset: self.valueOffset(index), as: UnsafePointer<CChar>?.self)
            .map { String(cString: $0) }
    }

    func bytes(_ index: Int) -> [UInt8]? {
        guard self.has(index) else { return nil }
        return Self.copy(self.base.load(fromByteOffset: self.valueOffset(index), as: ProtobufCBinaryData.self))
    }

    func message<M: CBackedMessage>(_ index: Int, as type: M.Type) -> M? {
        self.base.load(fromByteOffset: self.valueOffset(index), as: UnsafeRawPointer?.self)
            .map { M(reading: CMessageReader(base: $0, descriptor: M.cDescriptor)) }
    }

    func scalars<T: BitwiseCopyable>(_ index: Int, as type: T.Type) -> [T] {
        let n = self.count(index)
        guard n > 0, let items = self.array(index) else { return [] }
        return (0..<n).map { items.load(fromByteOffset: $0 * MemoryLayout<T>.stride, as: T.self) }
    }

    func bools(_ index: Int) -> [Bool] {
        self.scalars(index, as: Int32.self).map { $0 != 0 }
    }

    func enumValues(_ index: Int) -> [Int32] {
        self.scalars(index, as: Int32.self)
    }

    func strings(_ index: Int) -> [String] {
        self.scalars(index, as: UnsafePointer<CChar>?.self).map { $0.map { String(cString: $0) } ?? "" }
    }

    func bytesList(_ index: Int) -> [[UInt8]] {
        self.scalars(index, as: ProtobufCBinaryData.self).map(Self.copy)
    }

    func messages<M: CBackedMessage>(_ index: Int, as type: M.Type) -> [M] {
        self.scalars(index, as: UnsafeRawPointer?.self).compactMap { pointer in
            pointer.map { M(reading: CMessageReader(base: $0, descriptor: M.cDescriptor)) }
        }
    }

    private static func copy(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let start = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: start, count: data.len))
    }
}
