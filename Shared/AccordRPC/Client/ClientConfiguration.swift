public import AccordWire
public import NIOCore

/// A server address.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (IPv6 as `[::1]:7401`); nil when it is not one.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}

/// How an ``RPCClient`` connects, retries and keeps connections alive.
public struct ClientConfiguration: Sendable {
    /// Time to open a connection and read the server's preface; default 5 s.
    public var connectTimeout: TimeAmount
    /// Reconnection backoff after a failed connect: first delay, growth, cap, jitter (±fraction).
    public var backoff: Backoff
    /// Retries of idempotent calls that failed UNAVAILABLE.
    public var retry: RetryPolicy
    /// Ping after this much silence from the server; default 30 s.
    public var keepaliveInterval: TimeAmount
    /// Close the connection when a ping is not answered within this; default 10 s.
    public var keepaliveTimeout: TimeAmount
    /// Largest response message accepted (after decompression); default 4 MiB.
    public var maxMessageBytes: Int
    /// Compress requests of at least this many bytes when the server accepts zlib, and accept
    /// compressed responses; nil turns compression off both ways; default 1024.
    public var compressionThresholdBytes: Int?
    /// Frames are written at the end of each event-loop tick, or as soon as this many calls
    /// (or 64 KiB) are pending, so that the peer starts on the first calls of a burst while later
    /// ones are made; default 16.
    public var flushEveryCalls: Int
    /// The connection's kernel receive buffer (SO_RCVBUF), nil for the system's own, which grows
    /// to several MiB: a proxy's stream connections set it so that a stalled stream holds little.
    public var receiveBufferBytes: Int? = nil
    /// Connect over TLS (PROTOCOL.md §1.1); nil connects in clear. Default nil.
    public var tls: ClientTLS? = nil

    public struct Backoff: Sendable {
        public var initial: TimeAmount
        public var multiplier: Double
        public var maximum: TimeAmount
        public var jitter: Double

        public init(initial: TimeAmount, multiplier: Double, maximum: TimeAmount, jitter: Double) {
            self.initial = initial
            self.multiplier = multiplier
            self.maximum = maximum
            self.jitter = jitter
        }

        public static let defaults = Backoff(
            initial: .milliseconds(100),
            multiplier: 1.6,
            maximum: .seconds(5),
            jitter: 0.2
        )

        /// The delay before attempt `attempt` (0 = first retry), with jitter.
        public func delay(attempt: Int) -> TimeAmount {
            let base = Double(self.initial.nanoseconds) * pow(self.multiplier, Double(attempt))
            let capped = min(base, Double(self.maximum.nanoseconds))
            let jittered = capped * (1 + Double.random(in: -self.jitter...self.jitter))
            return .nanoseconds(Int64(max(jittered, 0)))
        }
    }

    public struct RetryPolicy: Sendable {
        /// Attempts in all, the first included; default 3.
        public var maxAttempts: Int
        /// The budget: retries spend one token, each success earns `tokensPerSuccess`; retries stop
        /// when fewer than one token is left. Default 10 tokens, 0.1 per success.
        public var maxTokens: Double
        public var tokensPerSuccess: Double

        public init(maxAttempts: Int, maxTokens: Double, tokensPerSuccess: Double) {
            self.maxAttempts = maxAttempts
            self.maxTokens = maxTokens
            self.tokensPerSuccess = tokensPerSuccess
        }

        public static let defaults = RetryPolicy(maxAttempts: 3, maxTokens: 10, tokensPerSuccess: 0.1)
    }

    public init(
        connectTimeout: TimeAmount = .seconds(5),
        backoff: Backoff = .defaults,
        retry: RetryPolicy = .defaults,
        keepaliveInterval: TimeAmount = .seconds(30),
        keepaliveTimeout: TimeAmount = .seconds(10),
        maxMessageBytes: Int = 4 << 20,
        compressionThresholdBytes: Int? = 1024,
        flushEveryCalls: Int = 16
    ) {
        self.flushEveryCalls = flushEveryCalls
        self.connectTimeout = connectTimeout
        self.backoff = backoff
        self.retry = retry
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.maxMessageBytes = maxMessageBytes
        self.compressionThresholdBytes = compressionThresholdBytes
    }

    public static let defaults = ClientConfiguration()
}

/// Per-call settings.
public struct CallOptions: Sendable {
    /// How long the caller waits, sent to the server as the call's deadline; nil waits forever.
    public var timeout: TimeAmount?
    public var metadata: Metadata
    /// A moment the call ends by in any case, for calls made one after another within one
    /// budget (a composite call's branch): a unary call's timeout is the shorter of `timeout` and
    /// the time left to it.
    public var deadline: NIODeadline?

    public init(timeout: TimeAmount? = nil, metadata: Metadata = Metadata(), deadline: NIODeadline? = nil) {
        self.timeout = timeout
        self.metadata = metadata
        self.deadline = deadline
    }

    /// When a call made now must end: `timeout` from now or `deadline`, whichever comes first.
    public var endsBy: NIODeadline? {
        let fromTimeout = self.timeout.map { NIODeadline.now() + $0 }
        switch (fromTimeout, self.deadline) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b): return b
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
