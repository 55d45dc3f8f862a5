public import AccordWire
public import Logging
public import NIOCore

/// What a handler knows about its call.
public struct ServerContext: Sendable {
    /// `/accord.v1.Service/Method`.
    public let method: String
    public let metadata: Metadata
    /// When the caller stops waiting, if it set a deadline.
    public let deadline: NIODeadline?
    /// The peer's address.
    public let peer: String
    /// The call's id on its connection.
    public let callID: UInt32
    /// The common name of the certificate the peer presented over mutual TLS, verified against
    /// the trusted CA; nil in clear or without one.
    public let peerCertificateName: String?
    private var baseLogger: Logger
    /// Facts interceptors establish for handlers, such as the authenticated principal.
    public var attributes: [String: String]

    public init(
        method: String,
        metadata: Metadata,
        deadline: NIODeadline?,
        peer: String,
        callID: UInt32 = 0,
        peerCertificateName: String? = nil,
        logger: Logger,
        attributes: [String: String] = [:]
    ) {
        self.peerCertificateName = peerCertificateName
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.callID = callID
        self.baseLogger = logger
        self.attributes = attributes
    }

    /// A logger carrying `peer`, `call.method`, `call.id` and, when sent, `trace.id`. Built when
    /// asked for, so that calls that do not log pay nothing for it.
    public var logger: Logger {
        get {
            var logger = self.baseLogger
            logger[metadataKey: "peer"] = .string(self.peer)
            logger[metadataKey: "call.method"] = .string(self.method)
            logger[metadataKey: "call.id"] = .stringConvertible(self.callID)
            if let trace = self.metadata[MetadataKey.traceID] { logger[metadataKey: "trace.id"] = .string(trace) }
            return logger
        }
        set { self.baseLogger = newValue }
    }

    /// Time left before the deadline (nil without one).
    public var timeRemaining: TimeAmount? {
        self.deadline.map { $0 - .now() }
    }
}

/// Runs around every handler of a server: authentication, logging, metrics.
///
/// An interceptor may change the context it passes on, throw an ``RPCError`` to refuse the
/// call (the handler then never runs), or observe the result.
public protocol ServerInterceptor: Sendable {
    func intercept<Result: Sendable>(
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Result
    ) async throws -> Result
}
