import AccordMessages
import AccordWire
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import AccordRPC

/// The server connection's state machine, driven frame by frame without sockets.
@Suite("Server connection handler on an EmbeddedChannel")
struct ServerConnectionHandlerTests {
    /// The client's view: what the server wrote, decoded.
    final class Peer {
        let channel: EmbeddedChannel
        private var decoder = WireDecoder(peerRole: .server, maxFrameLength: 64 << 20)
        private var pending = ByteBuffer()

        init(configuration: ServerConfiguration = ServerConfiguration()) throws {
            var router = RPCRouter()
            router.register(EchoMethods.unary) { request, _ in EchoResponse(payload: request.payload) }
            let shared = ServerShared(
                configuration: configuration,
                router: router,
                interceptors: [],
                logger: Logger(label: "test")
            )
            self.channel = EmbeddedChannel(handler: ServerConnectionHandler(shared: shared))
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        }

        func send(_ buffer: ByteBuffer) throws {
            try self.channel.writeInbound(buffer)
            self.channel.embeddedEventLoop.run()
        }

        func sendPreface() throws {
            var buffer = ByteBuffer()
            buffer.writePreface(Preface(role: .client, capabilities: [], maxMessageBytes: 1 << 20))
            try self.send(buffer)
        }

        /// Everything written since the last call.
        func received() throws -> [WireEvent] {
            self.channel.embeddedEventLoop.run()
            while var buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
                self.pending.writeBuffer(&buffer)
            }
            var events: [WireEvent] = []
            while let event = try self.decoder.decode(buffer: &self.pending) { events.append(event) }
            return events
        }
    }

    @Test("the server sends its preface first and answers pings with ACK")
    func prefaceAndPing() throws {
        let peer = try Peer()
        let first = try peer.received()
        guard case .preface(let preface)? = first.first else {
            Issue.record("no preface: \(first)")
            return
        }
        #expect(preface.role == .server)
        #expect(preface.capabilities.contains(.zlib))
        try peer.sendPreface()
        try peer.send(.frame(.ping, id: 0, ByteBuffer(bytes: [1, 2, 3, 4, 5, 6, 7, 8])))
        let events = try peer.received()
        #expect(
            events == [
                .frame(
                    Frame(type: .ping, flags: .ack, callID: 0, payload: ByteBuffer(bytes: [1, 2, 3, 4, 5, 6, 7, 8]))
                )
            ]
        )
        #expect(peer.channel.isActive)
    }

    @Test("a call to an unknown method is UNIMPLEMENTED and the connection stays")
    func unimplemented() throws {
        let peer = try Peer()
        try peer.sendPreface()
        try peer.send(.headers("/accord.v1.Nope/Missing", id: 1))
        try peer.send(.message(EchoRequest(), id: 1))
        let trailers = try peer.received().compactMap(\.trailers)
        #expect(trailers.map(\.id) == [1])
        #expect(trailers.first?.trailers.code == .unimplemented)
        #expect(peer.channel.isActive)
    }

    @Test("a unary call runs on the connection's loop and ends with MESSAGE then TRAILERS OK")
    func unaryCall() throws {
        let peer = try Peer()
        try peer.sendPreface()
        try peer.send(.headers(EchoMethods.unary.path, id: 3))
        try peer.send(.message(EchoRequest(payload: [4, 2]), id: 3))
        let frames = try peer.received().compactMap { event -> Frame? in
            if case .frame(let frame) = event { return frame }
            return nil
        }
        #expect(frames.map(\.type) == [.message, .trailers])
        #expect(try EchoResponse(serializedBytes: Array(buffer: frames[0].payload)).payload == [4, 2])
        #expect(try CallTrailers.decode(from: frames[1].payload).code == .ok)
    }

    @Test("frames before the preface are not read, and a missing preface closes on the timeout")
    func prefaceTimeout() throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.preface = .seconds(1)
        let peer = try Peer(configuration: configuration)
        _ = try peer.received()
        peer.channel.embeddedEventLoop.advanceTime(by: .milliseconds(999))
        #expect(peer.channel.isActive)
        peer.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(try peer.received().compactMap(\.goAway).map(\.code) == [.prefaceTimeout])
        #expect(!peer.channel.isActive)
    }

    @Test("after the client's GOAWAY its calls in progress finish and a new one is refused, saying why")
    func clientGoAway() throws {
        let peer = try Peer()
        try peer.sendPreface()
        try peer.send(.headers(EchoMethods.unary.path, id: 3))  // open: waiting for its message
        _ = try peer.received()
        var payload = ByteBuffer()
        GoAway(lastCallID: 0, code: .noError, reason: "client is closing").encode(into: &payload)
        try peer.send(.frame(.goAway, id: 0, payload))
        #expect(try peer.received().compactMap(\.goAway).map(\.code) == [.noError])
        try peer.send(.headers(EchoMethods.unary.path, id: 4))
        let refused = try peer.received().compactMap(\.trailers).first?.trailers
        #expect(refused?.code == .unavailable && refused?.message.contains("the client sent GOAWAY") == true)
        try peer.send(.message(EchoRequest(payload: [7]), id: 3))
        #expect(try peer.received().compactMap(\.trailers).first?.trailers.code == .ok)
        #expect(!peer.channel.isActive)
    }

    @Test("an idle connection is sent GOAWAY IDLE_TIMEOUT and closed")
    func idleTimeout() throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.idle = .seconds(60)
        let peer = try Peer(configuration: configuration)
        try peer.sendPreface()
        _ = try peer.received()
        peer.channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(try peer.received().compactMap(\.goAway).map(\.code) == [.idleTimeout])
        #expect(!peer.channel.isActive)
    }

    @Test("draining sends GOAWAY with the last call id, refuses new calls, closes when none is left")
    func drain() throws {
        let peer = try Peer()
        try peer.sendPreface()
        try peer.send(.headers(EchoMethods.unary.path, id: 5))  // open: waiting for its message
        _ = try peer.received()
        peer.channel.pipeline.triggerUserOutboundEvent(DrainConnectionEvent(), promise: nil)
        #expect(
            try peer.received().compactMap(\.goAway) == [
                GoAway(lastCallID: 5, code: .noError, reason: "server is shutting down")
            ]
        )
        try peer.send(.headers(EchoMethods.unary.path, id: 6))
        #expect(try peer.received().compactMap(\.trailers).first?.trailers.code == .unavailable)
        #expect(peer.channel.isActive)
        try peer.send(.message(EchoRequest(payload: [1]), id: 5))
        #expect(try peer.received().compactMap(\.trailers).first?.trailers.code == .ok)
        #expect(!peer.channel.isActive)
    }

    @Test("a TRAILERS frame from a client is a protocol error")
    func wrongDirection() throws {
        let peer = try Peer()
        try peer.sendPreface()
        try peer.send(.frame(.trailers, id: 1))
        #expect(try peer.received().compactMap(\.goAway).map(\.code) == [.protocolError])
        #expect(!peer.channel.isActive)
    }

    @Test("a MESSAGE for a call never opened is a protocol error")
    func messageWithoutHeaders() throws {
        let peer = try Peer()
        try peer.sendPreface()
        try peer.send(.message(EchoRequest(), id: 9))
        #expect(try peer.received().compactMap(\.goAway).map(\.code) == [.protocolError])
    }
}
