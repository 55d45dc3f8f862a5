public import NIOCore

/// Key/value pairs sent with a call (HEADERS) or with its end (TRAILERS).
///
/// Keys are 1–255 bytes of lowercase ASCII letters, digits, `-`, `_` and `.`; values are UTF-8
/// text of up to 65,535 bytes. A key may repeat; ``subscript(_:)`` gives the first value.
public struct Metadata: Hashable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(key: String, value: String)]

    public init() { self.entries = [] }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.entries = elements.map { (key: $0.0, value: $0.1) }
    }

    public subscript(_ key: String) -> String? {
        self.entries.first { $0.key == key }?.value
    }

    public mutating func reserveCapacity(_ count: Int) {
        self.entries.reserveCapacity(count)
    }

    public mutating func add(_ key: String, _ value: String) {
        self.entries.append((key: key, value: value))
    }

    /// Replaces every value of `key` with one value, or removes the key when `value` is nil.
    public mutating func set(_ key: String, _ value: String?) {
        self.entries.removeAll { $0.key == key }
        if let value { self.entries.append((key: key, value: value)) }
    }

    public var isEmpty: Bool { self.entries.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> {
        self.entries.makeIterator()
    }

    /// Bytes these entries take on the wire.
    public var encodedSize: Int {
        2 + self.entries.reduce(0) { $0 + 3 + $1.key.utf8.count + $1.value.utf8.count }
    }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in self.entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }

    /// Whether `key` may be sent.
    public static func isValidKey(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard !utf8.isEmpty, utf8.count <= 255 else { return false }
        return utf8.withContiguousStorageIfAvailable { $0.allSatisfy(Self.isKeyByte) }
            ?? utf8.allSatisfy(Self.isKeyByte)
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }
}

extension ByteBuffer {
    /// Writes `count u16`, then per entry `key_len u8, key, value_len u16, value`.
    /// Keys and values over their limits are a programming error and trap.
    public mutating func writeMetadata(_ metadata: Metadata) {
        self.writeInteger(UInt16(metadata.entries.count))
        for (key, value) in metadata.entries {
            precondition(Metadata.isValidKey(key), "invalid metadata key \(key)")
            self.writeInteger(UInt8(key.utf8.count))
            self.writeString(key)
            self.writeInteger(UInt16(value.utf8.count))
            self.writeString(value)
        }
    }

    public mutating func readMetadata() throws(WireError) -> Metadata {
        guard let count = self.readInteger(as: UInt16.self) else {
            throw WireError(.protocolError, "metadata count is missing")
        }
        var metadata = Metadata()
        for _ in 0..<count {
            guard let keyLength = self.readInteger(as: UInt8.self),
                let key = self.readString(length: Int(keyLength)),
                let valueLength = self.readInteger(as: UInt16.self),
                let value = self.readString(length: Int(valueLength))
            else {
                throw WireError(.protocolError, "metadata entry is truncated")
            }
            guard Metadata.isValidKey(key) else {
                throw WireError(.protocolError, "metadata key is not lowercase ASCII")
            }
            metadata.add(key, value)
        }
        return metadata
    }
}
