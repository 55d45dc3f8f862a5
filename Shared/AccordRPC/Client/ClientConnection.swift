public import AccordWire
public import NIOCore
public import NIOPosix
import Synchronization

/// One multiplexed connection to one server endpoint.
public final class ClientConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<ClientConnectionHandler>
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
            var bootstrap = ClientBootstrap(group: eventLoop)
                .connectTimeout(configuration.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
            if let bytes = configuration.receiveBufferBytes {
                bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(bytes))
            }
            channel =
                try await bootstrap
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls = configuration.tls {
                            let (handler, diagnosis) = try tls.source.makeClientHandler(
                                serverName: tls.name(forHost: endpoint.host)
                            )
                            try channel.pipeline.syncOperations.addHandler(handler)
                            try channel.pipeline.syncOperations.addHandler(ClientTLSObserver(diagnosis: diagnosis))
                        }
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
            guard var failure = error as? RPCError else { throw RPCError(.unavailable, "\(endpoint): \(error)") }
            if !failure.message.contains("\(endpoint)") { failure.message = "\(endpoint): \(failure.message)" }
            throw failure
        }
        let handler: NIOLoopBound<ClientConnectionHandler>
        do {
            handler = try await channel.eventLoop.submit {
                NIOLoopBound(
                    try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self),
                    eventLoop: channel.eventLoop
                )
            }.get()
        } catch {
            // Closed between the preface and now: the handler has left the pipeline.
            throw RPCError(.unavailable, "\(endpoint) closed the connection right after its preface")
        }
        let connection = ClientConnection(channel: channel, handler: handler, preface: preface, usable: !unusable.isSet)
        // Weakly: the handler holds the flag, and the connection the handler.
        unusable.onSet { [weak connection] in connection?.usable.store(false, ordering: .relaxed) }
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

    /// Starts a unary call whose answer goes to `sink` on this connection's event loop, from that
    /// loop and without a task: a proxy's forwarded call. Nil when not called on the connection's
    /// loop or when the connection takes no new calls; otherwise the call's id, for ``cancelRelay(_:)``.
    public func relay(path: String, request: ByteBuffer, options: CallOptions, sink: any RelaySink) -> UInt32? {
        guard self.handler.eventLoop.inEventLoop else { return nil }
        return self.handler.value.startRelay(path: path, options: options, request: request, sink: sink)
    }

    /// Abandons a relayed call (CANCEL to the server); its sink hears nothing more. On the loop.
    public func cancelRelay(_ id: UInt32) {
        self.handler.value.cancelRelay(id)
    }

    public var eventLoop: any EventLoop { self.channel.eventLoop }

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
            defer { state.action = nil }
            return state.action
        }
        action?()
    }

    func onSet(_ action: @escaping @Sendable () -> Void) {
        let fire = self.state.withLock { state -> Bool in
            if !state.set { state.action = action }
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

/// Hears a relayed call's answer (``ClientConnection/relay(path:request:options:sink:)``) on the
/// connection's event loop: its messages, then either the server's TRAILERS or a failure here.
public protocol RelaySink: AnyObject {
    func relayed(message: ByteBuffer)
    /// The server's TRAILERS payload as it sent it, and the status it carries.
    func relayed(trailers: ByteBuffer, code: StatusCode)
    /// The call failed on this side: the connection failed or closed, the deadline passed, GOAWAY.
    func relayFailed(_ error: RPCError)
}

/// The responses of a server-streaming call read no faster than they are taken: once
/// ``PausingStream/highWatermark`` wait untaken, the connection stops reading (TCP then holds the
/// server's stream back) until the reader is down to ``PausingStream/lowWatermark``.
public enum PausingStream {
    public static let lowWatermark = 4
    public static let highWatermark = 16

    public typealias Sequence = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Resumer
    >
    typealias Source = Sequence.Source

    /// Resumes the connection's reads when the reader wants more; cancels the call when the
    /// reader goes away.
    public struct Resumer: NIOAsyncSequenceProducerDelegate {
        let handler: NIOLoopBound<ClientConnectionHandler>
        let handle: CallHandle

        public func produceMore() {
            let handler = self.handler
            handler.eventLoop.execute { handler.value.resumeReading() }
        }

        public func didTerminate() {
            let (handler, handle) = (self.handler, self.handle)
            handler.eventLoop.execute {
                handler.value.resumeReading()
                handler.value.cancel(handle)
            }
        }
    }
}

extension ClientConnection {
    /// One server-streaming call whose responses are read only as fast as they are taken (see
    /// ``PausingStream``). Holding reads back holds back every call on the connection: use it on
    /// a connection made for this one call.
    public func pausingStream(path: String, request: ByteBuffer, options: CallOptions) -> PausingStream.Sequence {
        let handler = self.handler
        let handle = CallHandle()
        let made = PausingStream.Sequence.makeSequence(
            backPressureStrategy: .init(
                lowWatermark: PausingStream.lowWatermark,
                highWatermark: PausingStream.highWatermark
            ),
            finishOnDeinit: true,
            delegate: PausingStream.Resumer(handler: handler, handle: handle)
        )
        let source = made.source
        handler.eventLoop.execute {
            handler.value.startPausingStream(
                path: path,
                options: options,
                request: request,
                handle: handle,
                source: source
            )
        }
        return made.sequence
    }
}
