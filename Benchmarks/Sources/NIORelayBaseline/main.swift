// The floor for the gateway's hop in SwiftNIO: a TCP relay on one event loop that passes the
// bytes it reads to the other side as they are (no frames, no authentication), as HAProxy's
// `mode tcp` does. Each accepted connection gets its own connection to the target.
//
//   NIORelayBaseline LISTEN_PORT TARGET_PORT
import Foundation
import NIOCore
import NIOPosix

/// One side of a relayed pair: what it reads is written to its partner, flushed when the read
/// burst ends; reading stops while the partner cannot take more.
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func pair() -> (GlueHandler, GlueHandler) {
        let (a, b) = (GlueHandler(), GlueHandler())
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { self.context?.write(data, promise: nil) }
    private func partnerFlush() { self.context?.flush() }
    private func partnerClose() { self.context?.close(promise: nil) }
    private var partnerWritable: Bool { self.context?.channel.isWritable ?? false }
    private func partnerBecameWritable() {
        if self.pendingRead {
            self.pendingRead = false
            self.context?.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { self.partner?.partnerWrite(data) }
    func channelReadComplete(context: ChannelHandlerContext) { self.partner?.partnerFlush() }
    func channelInactive(context: ChannelHandlerContext) { self.partner?.partnerClose() }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.partner?.partnerBecameWritable() }
    }
    func read(context: ChannelHandlerContext) {
        if self.partner?.partnerWritable ?? false {
            context.read()
        } else {
            self.pendingRead = true
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let listenPort = Int(arguments[1]), let targetPort = Int(arguments[2]) else {
    print("usage: NIORelayBaseline LISTEN_PORT TARGET_PORT")
    exit(2)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.autoRead, value: false)
    .childChannelInitializer { inbound in
        let (front, back) = GlueHandler.pair()
        return ClientBootstrap(group: inbound.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { outbound in
                outbound.eventLoop.makeCompletedFuture { try outbound.pipeline.syncOperations.addHandler(back) }
            }
            .connect(host: "127.0.0.1", port: targetPort)
            .flatMapThrowing { _ in try inbound.pipeline.syncOperations.addHandler(front) }
            .flatMap { inbound.setOption(.autoRead, value: true) }
    }
    .bind(host: "127.0.0.1", port: listenPort).wait()
try channel.closeFuture.wait()
