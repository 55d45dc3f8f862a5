/// A violation of the wire protocol. Each ends the connection (with a GOAWAY carrying
/// ``code`` where the preface was valid).
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: GoAwayCode
    public var reason: String

    public init(_ code: GoAwayCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(self.code): \(self.reason)" }
}

/// Why a connection ends: the error code of a GOAWAY frame.
public enum GoAwayCode: UInt32, Sendable, Hashable, CustomStringConvertible {
    /// Graceful: the sender is shutting down or the connection was idle.
    case noError = 0
    /// The peer broke the protocol (bad frame, bad order, reused call id, bad preface).
    case protocolError = 1
    /// The sender failed on its own.
    case internalError = 2
    /// A frame's length is over the limit; its body was not read.
    case frameTooLarge = 3
    /// No call for longer than the idle timeout.
    case idleTimeout = 4
    /// A ping was not answered in time.
    case keepaliveTimeout = 5
    /// The peer's preface names a version the sender does not speak.
    case unsupportedVersion = 6
    /// The peer did not send its preface in time.
    case prefaceTimeout = 7

    public var description: String {
        switch self {
        case .noError: "NO_ERROR"
        case .protocolError: "PROTOCOL_ERROR"
        case .internalError: "INTERNAL_ERROR"
        case .frameTooLarge: "FRAME_TOO_LARGE"
        case .idleTimeout: "IDLE_TIMEOUT"
        case .keepaliveTimeout: "KEEPALIVE_TIMEOUT"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .prefaceTimeout: "PREFACE_TIMEOUT"
        }
    }

    public init(wireValue: UInt32) {
        self = GoAwayCode(rawValue: wireValue) ?? .protocolError
    }
}
