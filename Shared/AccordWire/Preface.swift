public import NIOCore

/// The first 12 bytes each side sends: magic, version, role, capabilities, largest message.
public struct Preface: Hashable, Sendable {
    /// "ACRD".
    public static let magic: [UInt8] = [0x41, 0x43, 0x52, 0x44]
    public static let size = 12
    public static let currentVersion: UInt8 = 1

    public enum Role: UInt8, Sendable {
        case client = 1
        case server = 2
    }

    public struct Capabilities: OptionSet, Hashable, Sendable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// The sender accepts zlib-compressed messages.
        public static let zlib = Capabilities(rawValue: 0x0001)
    }

    public var version: UInt8
    public var role: Role
    public var capabilities: Capabilities
    /// The largest message (after decompression) the sender accepts.
    public var maxMessageBytes: UInt32

    public init(
        version: UInt8 = Preface.currentVersion,
        role: Role,
        capabilities: Capabilities,
        maxMessageBytes: UInt32
    ) {
        self.version = version
        self.role = role
        self.capabilities = capabilities
        self.maxMessageBytes = maxMessageBytes
    }
}

extension ByteBuffer {
    public mutating func writePreface(_ preface: Preface) {
        self.writeBytes(Preface.magic)
        self.writeMultipleIntegers(
            preface.version,
            preface.role.rawValue,
            preface.capabilities.rawValue,
            preface.maxMessageBytes
        )
    }
}
