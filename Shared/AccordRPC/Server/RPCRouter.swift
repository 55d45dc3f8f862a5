public import AccordMessages
public import NIOCore

/// Sends the responses of a server-streaming call.
public struct ResponseStream<Response: ProtoMessage>: Sendable {
    let raw: RawResponseStream

    /// Sends one response; waits while the connection cannot take more (backpressure).
    /// Throws `CancellationError` once the call is over (cancelled, deadline, disconnect).
    public func send(_ response: Response) async throws {
        try await self.raw.send(encode(response))
    }
}

/// The method table of a server: each path to its handler.
public struct RPCRouter: Sendable {
    enum Handler: Sendable {
        case unary(@Sendable (ByteBuffer, DecodeLimits, ServerContext) async throws -> ByteBuffer)
        case serverStreaming(
            @Sendable (ByteBuffer, DecodeLimits, ServerContext, RawResponseStream) async throws -> Void
        )
        case forward(any CallForwarder)
    }

    struct Route: Sendable {
        let path: String
        let handler: Handler
    }

    private(set) var routes: [String: Route] = [:]

    public init() {}

    /// The services of the registered methods, e.g. `accord.v1.Echo`.
    public var serviceNames: [String] {
        Set(self.routes.keys.compactMap { $0.split(separator: "/").first.map(String.init) }).sorted()
    }

    public var paths: [String] { self.routes.keys.sorted() }

    /// Whether a handler is registered for `path`.
    public func isRegistered(_ path: String) -> Bool { self.routes[path] != nil }

    /// Registers a unary method.
    public mutating func register<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        precondition(method.kind == .unary, "\(method.path) is not unary")
        precondition(self.routes[method.path] == nil, "\(method.path) is registered twice")
        self.routes[method.path] = Route(
            path: method.path,
            handler: .unary { bytes, limits, context in
                let request = try decode(Request.self, from: bytes, limits: limits)
                return try encode(try await handler(request, context))
            }
        )
    }

    /// Registers a server-streaming method.
    public mutating func register<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (Request, ServerContext, ResponseStream<Response>) async throws -> Void
    ) {
        precondition(method.kind == .serverStreaming, "\(method.path) is not server-streaming")
        precondition(self.routes[method.path] == nil, "\(method.path) is registered twice")
        self.routes[method.path] = Route(
            path: method.path,
            handler: .serverStreaming { bytes, limits, context, stream in
                let request = try decode(Request.self, from: bytes, limits: limits)
                try await handler(request, context, ResponseStream(raw: stream))
            }
        )
    }

    /// Registers a server-streaming handler of encoded messages, for a server that forwards calls
    /// without decoding them (a proxy). The request arrives after decompression and size checks.
    public mutating func registerRaw(
        path: String,
        serverStreaming handler: @escaping @Sendable (ByteBuffer, ServerContext, RawResponseStream) async throws -> Void
    ) {
        precondition(self.routes[path] == nil, "\(path) is registered twice")
        self.routes[path] = Route(
            path: path,
            handler: .serverStreaming { bytes, _, context, stream in try await handler(bytes, context, stream) }
        )
    }

    /// Registers a unary route answered by `forwarder` on the connection's event loop, without a
    /// task and without the server's interceptors (see ``CallForwarder``).
    public mutating func registerForwarded(path: String, _ forwarder: any CallForwarder) {
        precondition(self.routes[path] == nil, "\(path) is registered twice")
        self.routes[path] = Route(path: path, handler: .forward(forwarder))
    }

    func route(_ path: String) -> Route? { self.routes[path] }
}

/// Decodes a request, mapping failures to the statuses PROTOCOL.md documents.
func decode<M: ProtoMessage>(_ type: M.Type, from bytes: ByteBuffer, limits: DecodeLimits) throws(RPCError) -> M {
    let result = bytes.withUnsafeReadableBytes { raw in
        Result { () throws(MessageDecodingError) in try M(serializedBytes: raw, limits: limits) }
    }
    switch result {
    case .success(let message):
        return message
    case .failure(.tooLarge(let size, let limit)):
        throw RPCError(.resourceExhausted, "message of \(size) bytes is over the limit of \(limit)")
    case .failure(.allocationLimitExceeded(let limit)):
        throw RPCError(.resourceExhausted, "decoding the message needed more than \(limit) bytes")
    case .failure(.malformed(let type)):
        throw RPCError(.invalidArgument, "the message is not a valid \(type)")
    case .failure(.invalidString(_, let field, let problem)):
        throw RPCError.invalidArgument(field: field, problem)
    }
}

/// Encodes a message into a new buffer.
func encode<M: ProtoMessage>(_ message: M) throws(RPCError) -> ByteBuffer {
    do {
        return try message.withSerializedBytes { ByteBuffer(bytes: $0) }
    } catch let error as MessageEncodingError {
        throw RPCError(.internal, "the response could not be encoded: \(error)")
    } catch {
        throw RPCError(.internal, "the response could not be encoded")
    }
}
