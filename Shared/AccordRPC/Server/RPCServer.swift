import AccordMessages
import AccordWire
public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// What every connection of one server shares.
final class ServerShared: Sendable {
    let configuration: ServerConfiguration
    let router: RPCRouter
    let interceptors: [any ServerInterceptor]
    let logger: Logger
    let metrics: RPCServerMetrics
    /// Each hosted method's handler and metric series, found with one lookup per call.
    let methods: [String: (route: RPCRouter.Route, metrics: RPCServerMetrics.MethodMetrics)]

    init(configuration: ServerConfiguration, router: RPCRouter, interceptors: [any ServerInterceptor], logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.interceptors = interceptors
        self.logger = logger
        self.metrics = RPCServerMetrics(paths: router.paths)
        var methods: [String: (route: RPCRouter.Route, metrics: RPCServerMetrics.MethodMetrics)] = [:]
        for path in router.paths {
            methods[path] = (router.route(path)!, self.metrics.method(path))
        }
        self.methods = methods
    }
}

/// An Accord RPC server: listens, serves the router's methods, drains on graceful shutdown.
///
/// Run it in a `ServiceGroup` (SIGTERM drains it) or call ``run()`` directly. Graceful shutdown
/// stops accepting, sends GOAWAY on every connection, lets in-flight calls finish (up to the
/// drain timeout), then closes.
public final class RPCServer: Service, Sendable {
    private let shared: ServerShared
    private let group: any EventLoopGroup
    private let state = Mutex(ServerState())

    private struct ServerState {
        var channel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var addressWaiters: [CheckedContinuation<SocketAddress, any Error>] = []
        var startFailure: (any Error)?
    }

    public init(
        configuration: ServerConfiguration,
        router: RPCRouter,
        interceptors: [any ServerInterceptor] = [],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.shared = ServerShared(
            configuration: configuration,
            router: router,
            interceptors: interceptors,
            logger: logger
        )
        self.group = group
    }

    /// The address the server listens on, once it does (resolves port 0).
    public var localAddress: SocketAddress {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                self.state.withLock { state in
                    if let address = state.channel?.localAddress {
                        continuation.resume(returning: address)
                    } else if let failure = state.startFailure {
                        continuation.resume(throwing: failure)
                    } else {
                        state.addressWaiters.append(continuation)
                    }
                }
            }
        }
    }

    /// Serves until the task is cancelled or graceful shutdown is triggered; then drains.
    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await self.bind()
        } catch {
            let waiters = self.state.withLock { state in
                state.startFailure = error
                defer { state.addressWaiters.removeAll() }
                return state.addressWaiters
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            throw error
        }
        let waiters = self.state.withLock { state in
            state.channel = channel
            defer { state.addressWaiters.removeAll() }
            return state.addressWaiters
        }
        for waiter in waiters { waiter.resume(returning: channel.localAddress!) }
        let configuration = self.shared.configuration
        self.shared.logger.info(
            "Server listening",
            metadata: [
                "address": "\(channel.localAddress!.ipAddress ?? "?"):\(channel.localAddress!.port ?? 0)",
                "methods": "\(self.shared.router.paths.count)",
                "tls": "\(configuration.tls.map { $0.requiresClientCertificates ? "mutual" : "on" } ?? "off")",
            ]
        )
        await channel.serveUntilShutdown()
        await self.drainConnections()
        self.shared.logger.info("Server stopped")
    }

    /// Starts a graceful shutdown from outside a `ServiceGroup`.
    public func beginGracefulShutdown() {
        let channel = self.state.withLock { $0.channel }
        channel?.close(promise: nil)
    }

    private func bind() async throws -> any Channel {
        let shared = self.shared
        let configuration = shared.configuration
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls = configuration.tls {
                        let (handler, diagnosis) = try tls.makeServerHandler()
                        try pipeline.addHandler(handler)
                        try pipeline.addHandler(ServerTLSObserver(diagnosis: diagnosis, logger: shared.logger))
                    }
                    try pipeline.addHandler(ServerConnectionHandler(shared: shared))
                }
            }
        return try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        self.state.withLock { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
        }
    }

    private func drainConnections() async {
        let connections = self.state.withLock { Array($0.connections.values) }
        guard !connections.isEmpty else { return }
        self.shared.logger.info("Draining connections", metadata: ["connections": "\(connections.count)"])
        for connection in connections {
            connection.triggerUserOutboundEvent(DrainConnectionEvent(), promise: nil)
        }
        let drainTimeout = self.shared.configuration.timeouts.drain
        await withTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    let timer = connection.eventLoop.scheduleTask(in: drainTimeout) { connection.close(promise: nil) }
                    try? await connection.closeFuture.get()
                    timer.cancel()
                }
            }
        }
    }
}
