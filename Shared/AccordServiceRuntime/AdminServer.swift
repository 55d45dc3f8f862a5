public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// The admin port: `GET /metrics` in the Prometheus text format, `GET /healthz` for probes.
public final class AdminServer: Service, Sendable {
    private let host: String
    private let port: Int
    private let registry: PrometheusCollectorRegistry
    private let logger: Logger
    private let channel = Mutex<(any Channel)?>(nil)

    public init(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
    }

    public func run() async throws {
        let registry = self.registry
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(registry: registry))
                }
            }
            .bind(host: self.host, port: self.port)
            .get()
        self.channel.withLock { $0 = channel }
        self.logger.info(
            "Admin endpoint listening",
            metadata: ["address": "\(channel.localAddress!.ipAddress ?? "?"):\(channel.localAddress!.port ?? 0)"]
        )
        await channel.serveUntilShutdown()
    }
}

private final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            let (status, type, body): (HTTPResponseStatus, String, [UInt8])
            switch (head.method, head.uri.split(separator: "?").first ?? "") {
            case (.GET, "/metrics"):
                (status, type, body) = (.ok, "text/plain; version=0.0.4", self.registry.emitToBuffer())
            case (.GET, "/healthz"):
                (status, type, body) = (.ok, "text/plain", Array("ok\n".utf8))
            default:
                (status, type, body) = (.notFound, "text/plain", Array("not found: try /metrics or /healthz\n".utf8))
            }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: type)
            headers.add(name: "content-length", value: "\(body.count)")
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil
            )
            context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            self.request = nil
        }
    }
}
