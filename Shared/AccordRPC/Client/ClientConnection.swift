public import AccordWire
public import NIOCore
public import NIOPosix
import Synchronization

/// One multiplexed connection to one server endpoint.
public final class ClientConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<ClientConnectionHandler>
    private let usable: Atomic<Bool>
    /// What the server said in its preface.
    public let serverPreface: Preface

    private init(channel: any Channel, handler: NIOLoopBound<ClientConnectionHandler>, preface: Preface, usable: Bool) {
        self.channel = channel
        self.handler = handler
        self.serverPreface = preface
        self.usable = Atomic(usable)
    }

    /// Runs tasks on this connection's event loop: a caller that prefers it
    /// (`withTaskExecutorPreference`) starts calls and gets answers without a thread hop.
    public var executor: EventLoopTaskExecutor { EventLoopTaskExecutor(self.channel.eventLoop) }

    /// Whether new calls may be started (no GOAWAY, not closed).
    public var isUsable: Bool { self.usable.load(ordering: .relaxed) && self.channel.isActive }

    /// Connects and waits for the server's preface.
    public static func connect(
        to endpoint: Endpoint,
        configuration: ClientConfiguration = .defaults,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onUnusable: @escaping @Sendable () -> Void = {}
    ) async throws -> ClientConnection {
        let eventLoop = group.next()
        let ready = eventLoop.makePromise(of: Preface.self)
        let unusable = UnusableFlag()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(configuration.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ClientConnectionHandler(configuration: configuration, onReady: ready) {
                                unusable.set()
                                onUnusable()
                            }
                        )
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port)
                .get()
        } catch {
            ready.fail(error)
            throw RPCError(.unavailable, "cannot connect to \(endpoint): \(describeConnectFailure(error))")
        }
        let timeout = eventLoop.scheduleTask(in: configuration.connectTimeout) {
            ready.fail(RPCError(.unavailable, "\(endpoint) sent no preface within the connect timeout"))
        }
        defer { timeout.cancel() }
        let preface: Preface
        do {
            preface = try await ready.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error as? RPCError ?? RPCError(.unavailable, "\(endpoint): \(error)")
        }
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(
                try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self),
                eventLoop: channel.eventLoop
            )
        }.get()
        let connection = ClientConnection(channel: channel, handler: handler, preface: preface, usable: !unusable.isSet)
        unusable.onSet { connection.usable.store(false, ordering: .relaxed) }
        return connection
    }

    /// One unary call with encoded request and response messages.
    public func unary(path: String, request: ByteBuffer, options: CallOptions) async throws -> ByteBuffer {
        let handler = self.handler
        let handle = CallHandle()
        let future: EventLoopFuture<ByteBuffer>
        if handler.eventLoop.inEventLoop {
            future = handler.value.startUnary(path: path, options: options, request: request, handle: handle)
        } else {
            future = handler.eventLoop.flatSubmit {
                handler.value.startUnary(path: path, options: options, request: request, handle: handle)
            }
        }
        return try await withTaskCancellationHandler {
            try await future.get()
        } onCancel: {
            handler.eventLoop.execute { handler.value.cancel(handle) }
        }
    }

    /// One server-streaming call; the stream ends with the call (throwing its ``RPCError``).
    /// Cancelling the consuming task, or dropping the stream, cancels the call.
    public func serverStream(
        path: String,
        request: ByteBuffer,
        options: CallOptions
    ) -> AsyncThrowingStream<
        ByteBuffer, any Error
    > {
        let handler = self.handler
        let handle = CallHandle()
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                handler.eventLoop.execute { handler.value.cancel(handle) }
            }
        }
        handler.eventLoop.execute {
            handler.value.startStream(
                path: path,
                options: options,
                request: request,
                handle: handle,
                continuation: continuation
            )
        }
        return stream
    }

    /// Stops new calls, tells the server, and closes.
    public func close() async {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.close() }
        try? await self.channel.closeFuture.get()
    }
}

/// Set once by the connection handler when the connection stops taking calls.
private final class UnusableFlag: Sendable {
    private let state = Mutex<(set: Bool, action: (@Sendable () -> Void)?)>((false, nil))

    var isSet: Bool { self.state.withLock { $0.set } }

    func set() {
        let action = self.state.withLock { state -> (@Sendable () -> Void)? in
            state.set = true
            return state.action
        }
        action?()
    }

    func onSet(_ action: @escaping @Sendable () -> Void) {
        let fire = self.state.withLock { state -> Bool in
            state.action = action
            return state.set
        }
        if fire { action() }
    }
}

/// A short reason for a failed connect ("connection refused"), not the nested error dump.
func describeConnectFailure(_ error: any Error) -> String {
    if let error = error as? NIOConnectionError {
        if let first = error.connectionErrors.first { return describeConnectFailure(first.error) }
        if let resolution = error.dnsAAAAError ?? error.dnsAError { return "cannot resolve the host: \(resolution)" }
        return "no address to connect to"
    }
    if let error = error as? IOError {
        return String(cString: strerror(error.errnoCode)).lowercased()
    }
    if case ChannelError.connectTimeout(let timeout) = error {
        return "no answer within \(timeout.nanoseconds / 1_000_000) ms"
    }
    return "\(error)"
}

#if canImport(Glibc)
import Glibc
#endif
