import Logging
import NIOCore
public import NIOSSL
import NIOTLS
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Accord over TLS (PROTOCOL.md §1.1): TLS 1.3 only, the ALPN name `accord/1`, then the
/// protocol exactly as in clear, prefaces first.
public enum AccordTLS {
    /// The protocol name both sides offer in ALPN.
    public static let applicationProtocol = "accord/1"
}

/// Where a process's TLS material is: PEM files, read at start and again on each reload.
public struct TLSFiles: Sendable, Hashable {
    /// This side's certificate chain, leaf first; nil for a client that presents none.
    public var certificate: String?
    /// The private key of `certificate`.
    public var privateKey: String?
    /// The CA certificates a peer's certificate must chain to. A server with them asks every
    /// client for a certificate and refuses one without (mutual TLS); a client without them
    /// trusts the system's roots.
    public var trustedCA: String?

    public init(certificate: String? = nil, privateKey: String? = nil, trustedCA: String? = nil) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.trustedCA = trustedCA
    }
}

/// TLS material that cannot be used, naming the file and what is wrong with it.
public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A TLS context made from ``TLSFiles`` and made again from them on ``reload()``: each new
/// connection takes the context in force when it opens, and connections already open keep
/// theirs, so that a certificate is rotated without dropping a call.
public final class TLSContextSource: Sendable {
    public enum Role: Sendable, Equatable {
        /// A listener; with ``TLSFiles/trustedCA`` it requires client certificates from that CA.
        case server
        /// An outgoing connection; it verifies the server's certificate and name.
        case client
    }

    public let files: TLSFiles
    public let role: Role
    private let loaded: Mutex<Loaded>

    struct Loaded: Sendable {
        var context: NIOSSLContext
        var certificate: NIOSSLCertificate?
        var trusted: [NIOSSLCertificate]
        var contents: [[UInt8]]
    }

    public init(files: TLSFiles, role: Role) throws {
        self.files = files
        self.role = role
        self.loaded = Mutex(try Self.load(files, role, contents: try Self.contents(of: files)))
    }

    /// The context a connection opened now uses.
    public var context: NIOSSLContext { self.loaded.withLock { $0.context } }

    /// This side's leaf certificate, when it presents one.
    public var certificate: NIOSSLCertificate? { self.loaded.withLock { $0.certificate } }

    /// The CA certificates peers are held to (empty: the system's roots, or no client certificates).
    public var trustedCertificates: [NIOSSLCertificate] { self.loaded.withLock { $0.trusted } }

    /// `YYYY-MM-DDTHH:MM:SSZ`, for a certificate's dates.
    public static func iso(_ moment: Int) -> String { TLSDiagnosis.iso(time_t(moment)) }

    /// Whether a server asks clients for certificates (mutual TLS).
    public var requiresClientCertificates: Bool { self.role == .server && self.files.trustedCA != nil }

    /// Reads the files again and takes them when they changed; returns whether they did. When
    /// they cannot be used it throws and the context in force stays.
    @discardableResult
    public func reload() throws -> Bool {
        let contents = try Self.contents(of: self.files)
        if self.loaded.withLock({ $0.contents == contents }) { return false }
        let fresh = try Self.load(self.files, self.role, contents: contents)
        self.loaded.withLock { $0 = fresh }
        return true
    }

    /// The bytes of every file, in a fixed order: what a reload compares.
    private static func contents(of files: TLSFiles) throws -> [[UInt8]] {
        try [files.certificate, files.privateKey, files.trustedCA].map { path in
            guard let path else { return [] }
            return try readFile(path)
        }
    }

    /// A context from `contents`, the bytes of `files` as ``contents(of:)`` read them.
    private static func load(_ files: TLSFiles, _ role: Role, contents: [[UInt8]]) throws -> Loaded {
        var chain: [NIOSSLCertificate] = []
        var key: NIOSSLPrivateKey?
        if let path = files.certificate {
            guard let keyPath = files.privateKey else {
                throw TLSSetupError("the TLS certificate \(path) is given without its private key")
            }
            do {
                chain = try NIOSSLCertificate.fromPEMBytes(contents[0])
            } catch {
                throw TLSSetupError("the TLS certificate \(path) holds no PEM certificate")
            }
            guard !chain.isEmpty else { throw TLSSetupError("the TLS certificate \(path) holds no PEM certificate") }
            do {
                key = try NIOSSLPrivateKey(bytes: contents[1], format: .pem)
            } catch {
                throw TLSSetupError("the TLS private key \(keyPath) holds no PEM private key")
            }
            let now = time(nil)
            if chain[0].notValidAfter < now {
                throw TLSSetupError(
                    "the TLS certificate \(path) expired at \(TLSDiagnosis.iso(chain[0].notValidAfter))"
                )
            }
        } else if files.privateKey != nil {
            throw TLSSetupError("a TLS private key is given without its certificate")
        }
        if role == .server && chain.isEmpty {
            throw TLSSetupError("a TLS listener needs a certificate and its private key")
        }
        var trusted: [NIOSSLCertificate] = []
        if let path = files.trustedCA {
            trusted = (try? NIOSSLCertificate.fromPEMBytes(contents[2])) ?? []
            guard !trusted.isEmpty else { throw TLSSetupError("the TLS CA file \(path) holds no PEM certificate") }
        }
        var configuration: TLSConfiguration
        switch role {
        case .server:
            configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key!)
            )
            if !trusted.isEmpty {
                configuration.trustRoots = .certificates(trusted)
                configuration.certificateVerification = .noHostnameVerification
            }
        case .client:
            configuration = TLSConfiguration.makeClientConfiguration()
            if let key {
                configuration.certificateChain = chain.map { .certificate($0) }
                configuration.privateKey = .privateKey(key)
            }
            if !trusted.isEmpty { configuration.trustRoots = .certificates(trusted) }
            configuration.certificateVerification = .fullVerification
        }
        configuration.minimumTLSVersion = .tlsv13
        configuration.applicationProtocols = [AccordTLS.applicationProtocol]
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                "the TLS private key \(files.privateKey ?? "?") cannot be used with the certificate \(files.certificate ?? "?"): it does not belong to it, or TLS cannot use it (\(error))"
            )
        }
        return Loaded(context: context, certificate: chain.first, trusted: trusted, contents: contents)
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw TLSSetupError("cannot read the TLS file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                throw TLSSetupError("cannot read the TLS file \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= 1 << 20 else { throw TLSSetupError("the TLS file \(path) is over 1 MiB") }
        }
        return bytes
    }
}

extension NIOSSLCertificate {
    /// The certificate's subject common name: the name of the Accord component it was issued to.
    public var commonName: String? {
        self.subjectName.first { $0.type == .commonName }?.value
    }
}

/// Watches BoringSSL verify a peer's certificate chain (it keeps deciding) so that a refusal
/// can say why: expired, not yet valid, from another CA. One per connection, used on its loop.
final class TLSDiagnosis {
    private let trusted: [NIOSSLCertificate]
    /// On a client: the name the server's certificate must be for (nil: the address).
    private let expectedName: String?
    private(set) var refused: NIOSSLCertificate?
    /// On a client: the server's certificate, once the handshake has it.
    var peerCertificate: NIOSSLCertificate?

    init(trusted: [NIOSSLCertificate], expectedName: String? = nil) {
        self.trusted = trusted
        self.expectedName = expectedName
    }

    func observe(_ result: NIOSSLVerificationResult, _ certificate: NIOSSLCertificate) -> NIOSSLVerificationResult {
        if case .failed = result, self.refused == nil { self.refused = certificate }
        return result
    }

    /// Why a handshake failed, in words; `peer` is "client" or "server".
    func reason(for error: any Error, peer: String) -> String {
        let text = String(describing: error)
        func has(_ marks: String...) -> Bool { marks.contains { text.contains($0) } }
        if has("CERTIFICATE_VERIFY_FAILED") { return self.refusal(peer: peer) }
        if has("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            return "the client presented no certificate, and this port requires one (mutual TLS)"
        }
        if has("CERTIFICATE_REQUIRED") {
            return "the server requires a client certificate (mutual TLS), and none was given"
        }
        if has("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "RECORD_TOO_LARGE") {
            return peer == "client"
                ? "the client spoke in clear to a TLS port"
                : "the server did not answer in TLS (a port in clear?)"
        }
        if has("UNKNOWN_CA") {
            return "the \(peer) does not trust this side's certificate (it is not from the \(peer)'s CA)"
        }
        if has("CERTIFICATE_EXPIRED") { return "the \(peer) refused this side's certificate as expired" }
        if has("BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN", "UNSUPPORTED_CERTIFICATE") {
            return "the \(peer) refused this side's certificate"
        }
        if has("UNSUPPORTED_PROTOCOL", "PROTOCOL_VERSION") { return "the \(peer) does not speak TLS 1.3" }
        if has("NO_APPLICATION_PROTOCOL") {
            return "the \(peer) does not offer the ALPN name \(AccordTLS.applicationProtocol)"
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            let name = self.peerCertificate?.commonName.map { " (CN=\($0))" } ?? ""
            return "the server's certificate\(name) is not for \(self.expectedName ?? "the address connected to")"
        }
        if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl {
            return "the \(peer) closed the connection during the handshake"
        }
        if has("EOF during handshake") { return "the \(peer) closed the connection during the handshake" }
        return "TLS failed: \(text)"
    }

    private func refusal(peer: String) -> String {
        guard let certificate = self.refused else { return "the \(peer)'s certificate could not be verified" }
        let name = certificate.commonName.map { "CN=\($0)" } ?? "with no common name"
        let now = time(nil)
        if certificate.notValidAfter < now {
            return "the \(peer)'s certificate (\(name)) expired at \(Self.iso(certificate.notValidAfter))"
        }
        if certificate.notValidBefore > now {
            return "the \(peer)'s certificate (\(name)) is not valid before \(Self.iso(certificate.notValidBefore))"
        }
        if !self.trusted.isEmpty && !self.trusted.contains(where: { $0.subjectName == certificate.issuerName }) {
            let issuer =
                certificate.issuerName.first { $0.type == .commonName }.map { "CN=\($0.value)" } ?? "another CA"
            return "the \(peer)'s certificate (\(name)) was issued by \(issuer), not by the trusted CA"
        }
        return "the \(peer)'s certificate (\(name)) could not be verified against the trusted CA"
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    static func iso(_ moment: time_t) -> String {
        var value = moment
        var parts = tm()
        gmtime_r(&value, &parts)
        func two(_ number: Int32) -> String { number < 10 ? "0\(number)" : "\(number)" }
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}

/// NIOSSL marks its per-certificate verification callback deprecated in favour of callbacks that
/// replace BoringSSL's verification. Accord keeps BoringSSL's verification and only watches it
/// (``TLSDiagnosis``), so it uses the older initialisers, through this protocol, whose one
/// conformance acknowledges the deprecation.
private protocol WatchedHandlerMaking {
    func server(_ context: NIOSSLContext, _ watch: @escaping NIOSSLVerificationCallback) throws -> NIOSSLServerHandler
    func client(
        _ context: NIOSSLContext,
        _ serverName: String?,
        _ watch: @escaping NIOSSLVerificationCallback
    ) throws -> NIOSSLClientHandler
}

private struct WatchedHandlers: WatchedHandlerMaking {
    @available(*, deprecated)
    func server(_ context: NIOSSLContext, _ watch: @escaping NIOSSLVerificationCallback) throws -> NIOSSLServerHandler {
        try NIOSSLServerHandler(context: context, verificationCallback: watch)
    }

    @available(*, deprecated)
    func client(
        _ context: NIOSSLContext,
        _ serverName: String?,
        _ watch: @escaping NIOSSLVerificationCallback
    ) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: serverName, verificationCallback: watch)
    }
}

extension TLSContextSource {
    /// A server-side TLS handler on the context in force, and the diagnosis it feeds.
    func makeServerHandler() throws -> (NIOSSLServerHandler, TLSDiagnosis) {
        let diagnosis = TLSDiagnosis(trusted: self.trustedCertificates)
        let maker: any WatchedHandlerMaking = WatchedHandlers()
        return (try maker.server(self.context) { diagnosis.observe($0, $1) }, diagnosis)
    }

    /// A client-side TLS handler that verifies the server's certificate against `serverName`
    /// (a DNS name) or, when nil, against the address connected to.
    func makeClientHandler(serverName: String?) throws -> (NIOSSLClientHandler, TLSDiagnosis) {
        let diagnosis = TLSDiagnosis(trusted: self.trustedCertificates, expectedName: serverName)
        let maker: any WatchedHandlerMaking = WatchedHandlers()
        return (
            try maker.client(self.context, serverName) { result, certificate in
                diagnosis.peerCertificate = certificate  // the chain is walked from its root: the leaf comes last
                return diagnosis.observe(result, certificate)
            }, diagnosis
        )
    }
}

/// Sits behind the TLS handler on a server's connection: logs one line naming the cause when a
/// handshake is refused, and tells the connection handler the verified peer's name.
final class ServerTLSObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let diagnosis: TLSDiagnosis
    private let logger: Logger
    private var handshakeDone = false

    init(diagnosis: TLSDiagnosis, logger: Logger) {
        self.diagnosis = diagnosis
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            self.handshakeDone = true
            let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
                .peerCertificate
            context.fireUserInboundEventTriggered(TLSPeerVerified(name: certificate?.commonName))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !self.handshakeDone {
            self.handshakeDone = true  // one line per connection
            self.logger.notice(
                "TLS handshake refused",
                metadata: [
                    "peer": "\(context.channel.remoteAddress?.description ?? "unknown")",
                    "reason": "\(self.diagnosis.reason(for: error, peer: "client"))",
                ]
            )
        }
        context.fireErrorCaught(error)
    }
}

/// The TLS peer's certificate was verified; `name` is its common name (nil without a client
/// certificate).
struct TLSPeerVerified {
    let name: String?
}

/// How a client connects over TLS: the context (its CA, and its certificate for mutual TLS) and
/// the name the server's certificate must carry.
public struct ClientTLS: Sendable {
    public var source: TLSContextSource
    /// The DNS name the server's certificate must be for; nil: the host connected to (an IP
    /// address is matched against the certificate's IP addresses).
    public var serverName: String?

    public init(source: TLSContextSource, serverName: String? = nil) {
        self.source = source
        self.serverName = serverName
    }

    /// The name to verify the server at `host` by: ``serverName``, else `host` when it is a
    /// DNS name, else nil (the address).
    func name(forHost host: String) -> String? {
        if let name = self.serverName { return name }
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return isAddress ? nil : host
    }
}

/// A TLS handshake that failed, with why in words.
public struct TLSHandshakeFailure: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "TLS handshake failed: \(self.reason)" }
}

/// Sits behind the TLS handler on a client's connection: turns TLS's first error into a
/// ``TLSHandshakeFailure`` that names the cause. Under TLS 1.3 a client learns that the server
/// refused its certificate only after its own side of the handshake, from the alert that follows.
final class ClientTLSObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let diagnosis: TLSDiagnosis
    private var told = false

    init(diagnosis: TLSDiagnosis) {
        self.diagnosis = diagnosis
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let isTLS = error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError
        guard isTLS, !self.told else { return context.fireErrorCaught(error) }
        self.told = true
        context.fireErrorCaught(TLSHandshakeFailure(reason: self.diagnosis.reason(for: error, peer: "server")))
    }
}
