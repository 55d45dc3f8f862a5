public import AccordMessages
public import AccordWire

/// A failed call: a status code, a message for people and optional details for programs.
///
/// Handlers throw it to end a call with that status; clients receive it for every non-OK status.
/// Any other error a handler throws is answered as INTERNAL without its text.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    /// Structured details sent in the status (an encoded `accord.v1.ErrorDetails`), or empty.
    public var details: [UInt8]
    /// Set on a client when the server answered with this status: the call reached the server,
    /// which refused it (perhaps relaying a failure of its own dependencies). Unset for what the
    /// client concluded itself: no connection, a reset, a deadline, a malformed answer.
    public var answeredByPeer = false

    public init(_ code: StatusCode, _ message: String, details: [UInt8] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// An error carrying `ErrorDetails`.
    public init(_ code: StatusCode, _ message: String, details: ErrorDetails) {
        self.init(code, message, details: (try? details.serializedBytes()) ?? [])
    }

    /// INVALID_ARGUMENT naming the field, with the field in the details.
    public static func invalidArgument(field: String, _ description: String) -> RPCError {
        RPCError(
            .invalidArgument,
            "\(field): \(description)",
            details: ErrorDetails(
                reason: "INVALID_ARGUMENT",
                fieldViolations: [FieldViolation(field: field, description: description)]
            )
        )
    }

    /// The decoded details, when the server sent any.
    public var errorDetails: ErrorDetails? {
        self.details.isEmpty ? nil : try? ErrorDetails(serializedBytes: self.details)
    }

    public var description: String { "\(self.code.name): \(self.message)" }

    /// The same status: code, message and details (where it came from is not part of it).
    public static func == (lhs: RPCError, rhs: RPCError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.details == rhs.details
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.message)
        hasher.combine(self.details)
    }
}

/// An error of a layer below the handlers (a store's, say) that knows its wire status. The server
/// answers it as its ``rpcError``, so that each such error is mapped in one place.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}
