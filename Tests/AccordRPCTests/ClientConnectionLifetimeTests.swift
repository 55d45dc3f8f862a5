import AccordMessages
import NIOCore
import Testing

@testable import AccordRPC

/// A closed client connection lets go of its handler (and with it the channel's buffers): the
/// handler once held its pipeline context, which holds the handler, so every connection a
/// client ever opened (a reconnect after each failure, say) stayed in memory.
@Suite("client connection lifetime")
struct ClientConnectionLifetimeTests {
    final class Weak: @unchecked Sendable {
        weak var handler: ClientConnectionHandler?
    }

    /// Connects, makes one call, closes; the handler, weakly held.
    static func cycle(_ endpoint: Endpoint, closedBy: String) async throws -> (Weak, any EventLoop) {
        let connection = try await ClientConnection.connect(to: endpoint)
        let weak = Weak()
        let loop = connection.channel.eventLoop
        let bound = connection.handler
        try await loop.submit { weak.handler = bound.value }.get()
        let answer = try await connection.unary(
            path: EchoMethods.unary.path,
            request: ByteBuffer(bytes: try EchoRequest(payload: [1, 2, 3]).serializedBytes()),
            options: CallOptions()
        )
        #expect(answer.readableBytes > 0)
        if closedBy == "client" {
            await connection.close()
        } else {
            try await connection.channel.close()
        }
        try await connection.channel.closeFuture.get()
        return (weak, loop)
    }

    @Test("a closed connection's handler is freed", arguments: ["client", "channel"])
    func handlerFreed(_ closedBy: String) async throws {
        try await withServer { server in
            let (weak, loop) = try await Self.cycle(server.endpoint, closedBy: closedBy)
            // The pipeline removes its handlers on the loop after the close: wait for that.
            var freed = false
            for _ in 0..<1000 {
                try await loop.submit {}.get()
                if weak.handler == nil {
                    freed = true
                    break
                }
                await Task.yield()
            }
            #expect(freed, "the handler of a closed connection is still alive")
        }
    }
}
