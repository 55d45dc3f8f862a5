/// Bounds applied when decoding a message from untrusted bytes.
public struct DecodeLimits: Sendable, Hashable {
    /// Input longer than this is refused before protobuf-c sees it.
    public var maxMessageBytes: Int
    /// protobuf-c may allocate many times its input (a 2-byte submessage becomes a whole C
    /// struct); decoding fails once its allocations would pass this many bytes.
    public var maxAllocationBytes: Int

    public init(maxMessageBytes: Int, maxAllocationBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
        self.maxAllocationBytes = maxAllocationBytes
    }

    /// 4 MiB of input, 64 MiB of decoded structures.
    public static let defaults = DecodeLimits(maxMessageBytes: 4 << 20, maxAllocationBytes: 64 << 20)
}

/// Why bytes could not be decoded as a message.
public enum MessageDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input is longer than ``DecodeLimits/maxMessageBytes``.
    case tooLarge(size: Int, limit: Int)
    /// Decoding needed more memory than ``DecodeLimits/maxAllocationBytes``.
    case allocationLimitExceeded(limit: Int)
    /// The bytes are not a valid encoding of the message.
    case malformed(messageType: String)
    /// A string field holds a NUL or bytes that are not UTF-8: `field` names it (`name`,
    /// `officers[2].name`), `problem` says which.
    case invalidString(messageType: String, field: String, problem: String)

    public var description: String {
        switch self {
        case .tooLarge(let size, let limit):
            "message of \(size) bytes is over the limit of \(limit) bytes"
        case .allocationLimitExceeded(let limit):
            "decoding the message needed more than \(limit) bytes of memory"
        case .malformed(let messageType):
            "bytes are not a valid \(messageType)"
        case .invalidString(let messageType, let field, let problem):
            "\(messageType).\(field) \(problem)"
        }
    }
}

/// Why a message could not be encoded.
public enum MessageEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// protobuf-c strings are NUL-terminated: a string holding U+0000 cannot be sent.
    case stringContainsNUL(messageType: String, field: String)

    public var description: String {
        switch self {
        case .stringContainsNUL(let messageType, let field):
            "\(messageType).\(field) contains a NUL character"
        }
    }
}
