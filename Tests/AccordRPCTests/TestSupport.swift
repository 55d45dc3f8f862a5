import AccordMessages
import AccordRPC
import AccordServiceRuntime
import AccordWire
import Atomics
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

/// A server on 127.0.0.1 port 0 with echo, health and whatever `register` adds.
struct TestServer {
    let server: RPCServer
    let task: Task<Void, any Error>
    let endpoint: Endpoint

    static func start(
        configuration: ServerConfiguration = ServerConfiguration(),
        interceptors: [any ServerInterceptor] = [],
        register: (inout RPCRouter) -> Void = { _ in }
    ) async throws -> TestServer {
        var router = RPCRouter()
        register(&router)
        Diagnostics.registerEcho(into: &router)
        Diagnostics.registerHealth(into: &router, serverName: "test")
        var logger = Logger(label: "test.server")
        logger.logLevel = ProcessInfo.processInfo.environment["ACCORD_TEST_LOG"] == nil ? .critical : .trace
        let server = RPCServer(configuration: configuration, router: router, interceptors: interceptors, logger: logger)
        let task = Task { try await server.run() }
        let address = try await server.localAddress
        return TestServer(server: server, task: task, endpoint: Endpoint(host: "127.0.0.1", port: address.port!))
    }

    func stop() async {
        self.server.beginGracefulShutdown()
        _ = await self.task.result
    }
}

func withServer<R>(
    configuration: ServerConfiguration = ServerConfiguration(),
    register: (inout RPCRouter) -> Void = { _ in },
    _ body: (TestServer) async throws -> R
) async throws -> R {
    let server = try await TestServer.start(configuration: configuration, register: register)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Test methods outside the schema, reusing the echo messages.
enum TestMethods {
    static let slow = RPCMethod<EchoRequest, EchoResponse>(path: "/test.Probe/Slow", kind: .unary, isIdempotent: false)
    static let failOnce = RPCMethod<EchoRequest, EchoResponse>(
        path: "/test.Probe/Unavailable",
        kind: .unary,
        isIdempotent: false
    )
    static let failOnceIdempotent = RPCMethod<EchoRequest, EchoResponse>(
        path: "/test.Probe/UnavailableIdempotent",
        kind: .unary,
        isIdempotent: true
    )
}

/// Counts handler runs and cancellations seen by the slow probe.
final class Probe: Sendable {
    let started = ManagedAtomic(0)
    let cancelled = ManagedAtomic(0)
    let finished = ManagedAtomic(0)
    let calls = ManagedAtomic(0)

    func register(into router: inout RPCRouter) {
        router.register(TestMethods.slow) { request, _ in
            self.started.wrappingIncrement(ordering: .relaxed)
            do {
                try await Task.sleep(nanoseconds: UInt64(request.delayMs ?? 10_000) * 1_000_000)
            } catch {
                self.cancelled.wrappingIncrement(ordering: .relaxed)
                throw error
            }
            self.finished.wrappingIncrement(ordering: .relaxed)
            return EchoResponse(payload: request.payload)
        }
        for method in [TestMethods.failOnce, TestMethods.failOnceIdempotent] {
            router.register(method) { _, _ in
                self.calls.wrappingIncrement(ordering: .relaxed)
                throw RPCError(.unavailable, "probe is unavailable")
            }
        }
    }

    /// Waits up to `seconds` for `condition`.
    func eventually(seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < end {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return condition()
    }
}

/// A hand-driven connection for sending arbitrary bytes and reading what the server answers.
final class RawConnection: Sendable {
    let channel: any Channel
    let events: AsyncStream<WireEvent>

    /// Feeds decoded events to an AsyncStream, which finishes when the connection closes.
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = WireEvent
        let continuation: AsyncStream<WireEvent>.Continuation
        init(_ continuation: AsyncStream<WireEvent>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.continuation.yield(self.unwrapInboundIn(data))
        }
        func channelInactive(context: ChannelHandlerContext) { self.continuation.finish() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    init(_ endpoint: Endpoint) async throws {
        let (stream, continuation) = AsyncStream<WireEvent>.makeStream()
        self.events = stream
        self.channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(WireDecoder(peerRole: .server, maxFrameLength: 64 << 20))
                    )
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .get()
    }

    deinit { self.channel.close(promise: nil) }

    func send(_ bytes: ByteBuffer) async throws {
        try await self.channel.writeAndFlush(bytes)
    }

    func sendPreface(capabilities: Preface.Capabilities = .zlib) async throws {
        var buffer = ByteBuffer()
        buffer.writePreface(Preface(role: .client, capabilities: capabilities, maxMessageBytes: 4 << 20))
        try await self.send(buffer)
    }

    /// Everything the server sends until it closes the connection (closed true) or `seconds` pass.
    func readUntilClose(seconds: Double = 5) async throws -> (events: [WireEvent], closed: Bool) {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var events: [WireEvent] = []
        while ContinuousClock.now < deadline {
            for try await event in self.events {
                events.append(event)
                if ContinuousClock.now >= deadline { return (events, false) }
            }
            return (events, true)
        }
        return (events, false)
    }

    /// Reads events until `predicate` holds for one, or fails after `seconds`.
    func read(seconds: Double = 5, until predicate: @escaping @Sendable (WireEvent) -> Bool) async throws -> [WireEvent]
    {
        var events: [WireEvent] = []
        let start = ContinuousClock.now
        for await event in self.events {
            events.append(event)
            if predicate(event) { return events }
            if ContinuousClock.now - start > .milliseconds(Int(seconds * 1000)) { break }
        }
        throw RPCError(.deadlineExceeded, "no matching frame; got \(events)")
    }
}

extension ByteBuffer {
    static func frame(
        _ type: FrameType,
        flags: FrameFlags = [],
        id: UInt32,
        _ payload: ByteBuffer = ByteBuffer()
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(Frame(type: type, flags: flags, callID: id, payload: payload))
        return buffer
    }

    static func headers(
        _ method: String,
        id: UInt32,
        timeoutMilliseconds: UInt32 = 0,
        metadata: Metadata = Metadata()
    )
        -> ByteBuffer
    {
        var payload = ByteBuffer()
        CallHeaders(method: method, timeoutMilliseconds: timeoutMilliseconds, metadata: metadata).encode(into: &payload)
        return .frame(.headers, id: id, payload)
    }

    static func message<M: ProtoMessage>(_ message: M, id: UInt32) throws -> ByteBuffer {
        .frame(.message, flags: .endStream, id: id, ByteBuffer(bytes: try message.serializedBytes()))
    }
}

extension WireEvent {
    var trailers: (id: UInt32, trailers: CallTrailers)? {
        guard case .frame(let frame) = self, frame.type == .trailers,
            let trailers = try? CallTrailers.decode(from: frame.payload)
        else { return nil }
        return (frame.callID, trailers)
    }

    var goAway: GoAway? {
        guard case .frame(let frame) = self, frame.type == .goAway else { return nil }
        return try? GoAway.decode(from: frame.payload)
    }
}
