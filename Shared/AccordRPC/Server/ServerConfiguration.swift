public import NIOCore

/// How an ``RPCServer`` listens and what it allows. Every value has a documented default.
public struct ServerConfiguration: Sendable {
    /// Address to bind; default 127.0.0.1.
    public var host: String
    /// Port to bind; 0 picks a free one (see ``RPCServer/localAddress``).
    public var port: Int
    public var limits: Limits
    public var timeouts: Timeouts
    public var compression: Compression
    /// Run handlers on their connection's event loop (no thread hop per call; handlers must not
    /// block) rather than on Swift's global concurrent executor; default true.
    public var runsHandlersOnEventLoop: Bool
    /// Frames are written at the end of each event-loop tick, or as soon as this many calls
    /// (or 64 KiB) are pending, so that the peer starts on the first calls of a burst while later
    /// ones are made; default 16.
    public var flushEveryCalls: Int
    /// TLS on every accepted connection (PROTOCOL.md §1.1); nil serves in clear. With trusted CA
    /// certificates, clients must present a certificate from them (mutual TLS). Default nil.
    public var tls: TLSContextSource?

    public struct Limits: Sendable {
        /// Largest message after decompression, and largest frame; default 4 MiB.
        public var maxMessageBytes: Int
        /// Largest HEADERS payload (method and metadata); default 16 KiB.
        public var maxMetadataBytes: Int
        /// Calls in progress on one connection; more answer RESOURCE_EXHAUSTED; default 4096.
        public var maxConcurrentCallsPerConnection: Int
        /// Memory protobuf-c may allocate to decode one request; default 64 MiB.
        public var maxDecodeAllocationBytes: Int

        public static let defaults = Limits(
            maxMessageBytes: 4 << 20,
            maxMetadataBytes: 16 << 10,
            maxConcurrentCallsPerConnection: 4096,
            maxDecodeAllocationBytes: 64 << 20
        )
    }

    public struct Timeouts: Sendable {
        /// A connection that has not sent its preface by then is closed; default 10 s.
        public var preface: TimeAmount
        /// A connection with no call for this long is sent GOAWAY and closed; default 5 min.
        public var idle: TimeAmount
        /// On graceful shutdown, in-flight calls get this long before connections are closed; default 30 s.
        public var drain: TimeAmount

        public static let defaults = Timeouts(preface: .seconds(10), idle: .minutes(5), drain: .seconds(30))
    }

    public struct Compression: Sendable {
        /// Whether to accept and send zlib-compressed messages; default true.
        public var enabled: Bool
        /// Messages shorter than this are sent uncompressed; default 1024 bytes.
        public var thresholdBytes: Int

        public static let defaults = Compression(enabled: true, thresholdBytes: 1024)
    }

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        limits: Limits = .defaults,
        timeouts: Timeouts = .defaults,
        compression: Compression = .defaults,
        runsHandlersOnEventLoop: Bool = true,
        flushEveryCalls: Int = 16,
        tls: TLSContextSource? = nil
    ) {
        self.tls = tls
        self.flushEveryCalls = flushEveryCalls
        self.runsHandlersOnEventLoop = runsHandlersOnEventLoop
        self.host = host
        self.port = port
        self.limits = limits
        self.timeouts = timeouts
        self.compression = compression
    }
}
