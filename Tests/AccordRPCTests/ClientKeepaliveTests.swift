import AccordWire
import NIOCore
import NIOPosix
import Testing

@testable import AccordRPC

/// A server that answers the preface and then never answers a PING: the client sends GOAWAY
/// KEEPALIVE_TIMEOUT (PROTOCOL.md §6) and closes.
@Suite("client keepalive")
struct ClientKeepaliveTests {
    /// Sends its preface, then only reads; what it read goes to `received`.
    final class SilentServer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let received: AsyncStream<WireEvent>.Continuation
        var decoder = WireDecoder(peerRole: .client, maxFrameLength: 1 << 20)
        var pending = ByteBuffer()

        init(_ received: AsyncStream<WireEvent>.Continuation) { self.received = received }

        func channelActive(context: ChannelHandlerContext) {
            var preface = context.channel.allocator.buffer(capacity: 12)
            preface.writePreface(Preface(role: .server, capabilities: [], maxMessageBytes: 1 << 20))
            context.writeAndFlush(NIOAny(preface), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = self.unwrapInboundIn(data)
            self.pending.writeBuffer(&bytes)
            while let event = try? self.decoder.decode(buffer: &self.pending) { self.received.yield(event) }
        }

        func channelInactive(context: ChannelHandlerContext) { self.received.finish() }
    }

    @Test("an unanswered ping: GOAWAY KEEPALIVE_TIMEOUT, then the connection closes")
    func unansweredPing() async throws {
        let (received, continuation) = AsyncStream<WireEvent>.makeStream()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SilentServer(continuation))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let configuration = ClientConfiguration(
            keepaliveInterval: .seconds(1),
            keepaliveTimeout: .seconds(1)
        )
        // On a loaded machine the keepalive may run out before connect returns (it then says the
        // connection closed right after the preface): what the server received is the test.
        let connection = try? await ClientConnection.connect(
            to: Endpoint(host: "127.0.0.1", port: port),
            configuration: configuration
        )
        var frames: [FrameType] = []
        var goAway: GoAway?
        for await event in received {
            guard case .frame(let frame) = event else { continue }
            frames.append(frame.type)
            if frame.type == .goAway { goAway = try GoAway.decode(from: frame.payload) }
        }
        #expect(frames.first == .ping, "\(frames)")
        #expect(goAway?.code == .keepaliveTimeout, "\(frames)")
        if let connection {
            try await connection.channel.closeFuture.get()
            #expect(!connection.isUsable)
        }
        try await server.close()
    }
}
