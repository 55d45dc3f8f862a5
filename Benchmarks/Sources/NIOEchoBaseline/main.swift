// The reference for Accord's echo figures: plain SwiftNIO on loopback, frames of a 4-byte length
// and a payload, echoed back as they are; no envelope, no protobuf, no status.
//
//   NIOEchoBaseline server PORT
//   NIOEchoBaseline client PORT IN_FLIGHT PAYLOAD_BYTES SECONDS   (prints one JSON line)
import Foundation
import NIOCore
import NIOPosix

final class FrameSplitter: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
            buffer.readableBytes >= 4 + Int(length)
        else { return .needMoreData }
        context.fireChannelRead(self.wrapInboundOut(buffer.readSlice(length: 4 + Int(length))!))
        return .continue
    }
}

final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
}

final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var count = 0
    let inFlight: Int
    let frame: ByteBuffer
    init(inFlight: Int, payload: Int) {
        self.inFlight = inFlight
        var frame = ByteBuffer()
        frame.writeInteger(UInt32(payload))
        frame.writeRepeatingByte(0x61, count: payload)
        self.frame = frame
    }
    func channelActive(context: ChannelHandlerContext) {
        for _ in 0..<self.inFlight { context.write(self.wrapOutboundOut(self.frame), promise: nil) }
        context.flush()
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.count += 1
        context.write(self.wrapOutboundOut(self.frame), promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let port = Int(arguments[2]) else {
    print("usage: NIOEchoBaseline server PORT | client PORT IN_FLIGHT PAYLOAD SECONDS")
    exit(2)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
if arguments[1] == "server" {
    let channel = try ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameSplitter()))
                try channel.pipeline.syncOperations.addHandler(EchoHandler())
            }
        }
        .bind(host: "127.0.0.1", port: port).wait()
    try channel.closeFuture.wait()
} else {
    guard arguments.count == 6, let inFlight = Int(arguments[3]), let payload = Int(arguments[4]),
        let seconds = Int(arguments[5])
    else {
        print("usage: NIOEchoBaseline client PORT IN_FLIGHT PAYLOAD SECONDS")
        exit(2)
    }
    let client = ClientHandler(inFlight: inFlight, payload: payload)
    let channel = try ClientBootstrap(group: group)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameSplitter()))
                try channel.pipeline.syncOperations.addHandler(client)
            }
        }
        .connect(host: "127.0.0.1", port: port).wait()
    sleep(1)
    let before = try channel.eventLoop.submit { client.count }.wait()
    sleep(UInt32(seconds))
    let after = try channel.eventLoop.submit { client.count }.wait()
    print(
        #"{"baseline":"swift-nio","in_flight":\#(inFlight),"payload":\#(payload),"throughput":\#((after - before) / seconds)}"#
    )
    exit(0)
}
