import AccordMessages
import AccordRPC
import AccordServiceRuntime
import AccordWire
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

/// Certificates made by Tools/tls.sh (openssl, a real process) in a fresh folder: the
/// deployment's CA and its components, and a second CA with a certificate of its own.
struct TestCertificates {
    let folder: URL
    let other: URL

    static func make() throws -> TestCertificates {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("accord-tls-\(UUID().uuidString)")
        let certificates = TestCertificates(
            folder: base.appendingPathComponent("ca"),
            other: base.appendingPathComponent("other")
        )
        try Self.tls(["init", certificates.folder.path])
        try Self.tls(["init", certificates.other.path])
        try Self.tls(["issue", certificates.folder.path, "expired"], days: "-1")
        return certificates
    }

    /// Runs Tools/tls.sh with `arguments`; fails with its output when it fails.
    static func tls(_ arguments: [String], days: String? = nil) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var environment = ProcessInfo.processInfo.environment
        environment["ACCORD_TLS_DAYS"] = days
        _ = try Self.run(
            root.appendingPathComponent("Tools/tls.sh").path,
            arguments,
            environment: environment,
            check: true
        )
    }

    /// Runs a program with no input and returns what it printed (both streams).
    static func run(
        _ program: String,
        _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        check: Bool = false
    ) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if check && process.terminationStatus != 0 {
            throw TLSSetupError("\(program) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    func files(_ name: String, in folder: URL? = nil, trusting ca: URL? = nil) -> TLSFiles {
        let folder = folder ?? self.folder
        return TLSFiles(
            certificate: folder.appendingPathComponent("\(name).pem").path,
            privateKey: folder.appendingPathComponent("\(name).key").path,
            trustedCA: (ca ?? self.folder).appendingPathComponent("ca.pem").path
        )
    }

    var ca: String { self.folder.appendingPathComponent("ca.pem").path }

    func remove() {
        try? FileManager.default.removeItem(at: self.folder.deletingLastPathComponent())
    }
}

/// Keeps every log line's message and metadata.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { self.lines.withLock { $0 } }

    func append(_ line: String) { self.lines.withLock { $0.append(line) } }

    func logger(_ label: String) -> Logger {
        Logger(label: label) { _ in CapturingHandler(log: self) }
    }

    /// Waits (a bounded time) for a line holding `text`.
    func line(containing text: String) async -> String? {
        for _ in 0..<500 {
            if let line = self.all.first(where: { $0.contains(text) }) { return line }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return nil
    }

    struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            self.log.append("\(event.level) \(event.message) \(fields)")
        }
    }
}

/// A method that answers with the common name of the caller's certificate.
let peerNameMethod = RPCMethod<EchoRequest, EchoResponse>(
    path: "/test.Probe/PeerName",
    kind: .unary,
    isIdempotent: true
)

@Suite("TLS over loopback, with certificates from Tools/tls.sh", .timeLimit(.minutes(2)))
struct TLSTests {
    /// A server on port 0 with `tls`, echo and the peer-name probe, logging into `log`.
    func withTLSServer<R>(
        _ tls: TLSContextSource?,
        log: CapturedLog = CapturedLog(),
        _ body: (Endpoint) async throws -> R
    ) async throws -> R {
        var router = RPCRouter()
        Diagnostics.registerEcho(into: &router)
        router.register(peerNameMethod) { _, context in
            EchoResponse(payload: Array((context.peerCertificateName ?? "none").utf8))
        }
        let server = RPCServer(
            configuration: ServerConfiguration(tls: tls),
            router: router,
            logger: log.logger("test.tls")
        )
        let task = Task { try await server.run() }
        defer { server.beginGracefulShutdown() }
        let endpoint = Endpoint(host: "127.0.0.1", port: try await server.localAddress.port!)
        do {
            let result = try await body(endpoint)
            server.beginGracefulShutdown()
            _ = await task.result
            return result
        } catch {
            server.beginGracefulShutdown()
            _ = await task.result
            throw error
        }
    }

    func client(_ tls: ClientTLS?) -> ClientConfiguration {
        var configuration = ClientConfiguration(connectTimeout: .seconds(20))
        configuration.tls = tls
        return configuration
    }

    /// The error a connection attempt ends with.
    func refusal(_ endpoint: Endpoint, _ configuration: ClientConfiguration) async -> String {
        do {
            let connection = try await ClientConnection.connect(to: endpoint, configuration: configuration)
            // TLS 1.3: a client learns of a refused client certificate at its first read.
            _ = try await connection.unary(
                path: EchoMethods.unary.path,
                request: ByteBuffer(bytes: try EchoRequest(payload: [1]).serializedBytes()),
                options: CallOptions(timeout: .seconds(20))
            )
            await connection.close()
            return "connected"
        } catch {
            return "\(error)"
        }
    }

    @Test("mutual TLS: the call goes through, and the server knows the caller by its certificate")
    func mutual() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try TLSContextSource(files: certificates.files("intake"), role: .server)
        #expect(server.requiresClientCertificates)
        try await self.withTLSServer(server) { endpoint in
            let source = try TLSContextSource(files: certificates.files("gateway"), role: .client)
            let client = RPCClient(
                endpoints: [endpoint],
                configuration: self.client(ClientTLS(source: source, serverName: "intake"))
            )
            let echo = try await client.unary(
                EchoMethods.unary,
                EchoRequest(payload: Array(repeating: 7, count: 100_000))
            )
            #expect(echo.payload?.count == 100_000)
            let peer = try await client.unary(peerNameMethod, EchoRequest())
            #expect(String(decoding: peer.payload ?? [], as: UTF8.self) == "gateway")
            await client.close()
            // A service's certificate names the service only, not the address it is reached at.
            let byAddress = await self.refusal(endpoint, self.client(ClientTLS(source: source)))
            #expect(byAddress.contains("is not for the address connected to"), "\(byAddress)")
        }
    }

    @Test("TLS without client certificates (the gateway's port): callers need only the CA")
    func serverOnly() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        var files = certificates.files("gateway")
        files.trustedCA = nil
        let server = try TLSContextSource(files: files, role: .server)
        #expect(!server.requiresClientCertificates)
        try await self.withTLSServer(server) { endpoint in
            let source = try TLSContextSource(files: TLSFiles(trustedCA: certificates.ca), role: .client)
            let client = RPCClient(endpoints: [endpoint], configuration: self.client(ClientTLS(source: source)))
            let peer = try await client.unary(peerNameMethod, EchoRequest())
            #expect(String(decoding: peer.payload ?? [], as: UTF8.self) == "none")
            await client.close()
        }
    }

    @Test("each refusal names its cause, on the client and in one server log line")
    func refusals() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let log = CapturedLog()
        let server = try TLSContextSource(files: certificates.files("intake"), role: .server)
        try await self.withTLSServer(server, log: log) { endpoint in
            // No client certificate.
            let anonymous = try TLSContextSource(files: TLSFiles(trustedCA: certificates.ca), role: .client)
            let noCertificate = await self.refusal(
                endpoint,
                self.client(ClientTLS(source: anonymous, serverName: "intake"))
            )
            #expect(noCertificate.contains("requires a client certificate"), "\(noCertificate)")
            #expect(await log.line(containing: "presented no certificate") != nil, "\(log.all)")

            // A client certificate from another CA.
            let stranger = try TLSContextSource(
                files: certificates.files("gateway", in: certificates.other, trusting: certificates.folder),
                role: .client
            )
            let otherCA = await self.refusal(endpoint, self.client(ClientTLS(source: stranger, serverName: "intake")))
            #expect(otherCA.contains("does not trust this side's certificate"), "\(otherCA)")
            let otherLine = await log.line(containing: "not by the trusted CA")
            #expect(otherLine?.contains("CN=gateway") == true, "\(log.all)")

            // An expired client certificate.
            let expired = try? TLSContextSource(files: certificates.files("expired"), role: .client)
            #expect(expired == nil, "a process refuses to start on its own expired certificate")
            // so an expired certificate is presented by openssl's own client.
            let openssl = try TestCertificates.run(
                "/usr/bin/openssl",
                [
                    "s_client", "-connect", "\(endpoint)", "-tls1_3", "-alpn", AccordTLS.applicationProtocol,
                    "-cert", certificates.files("expired").certificate!, "-key",
                    certificates.files("expired").privateKey!,
                    "-CAfile", certificates.ca, "-servername", "intake",
                ]
            )
            #expect(openssl.contains("CN = intake"), "openssl reached the server: \(openssl)")
            #expect(await log.line(containing: "(CN=expired) expired at") != nil, "\(log.all)")

            // A client in clear.
            let clear = await self.refusal(endpoint, self.client(nil))
            #expect(clear.contains("the peer speaks TLS, and this side of the connection is in clear"), "\(clear)")
            #expect(await log.line(containing: "the client spoke in clear to a TLS port") != nil, "\(log.all)")

            // The right CA but the wrong service: the certificate is not for that name.
            let gateway = try TLSContextSource(files: certificates.files("gateway"), role: .client)
            let wrongName = await self.refusal(
                endpoint,
                self.client(ClientTLS(source: gateway, serverName: "qualification"))
            )
            #expect(wrongName.contains("the server's certificate (CN=intake) is not for qualification"), "\(wrongName)")

            // A client that trusts another CA than the server's.
            let elsewhere = try TLSContextSource(
                files: certificates.files("gateway", in: certificates.other, trusting: certificates.other),
                role: .client
            )
            let untrusted = await self.refusal(
                endpoint,
                self.client(ClientTLS(source: elsewhere, serverName: "intake"))
            )
            #expect(untrusted.contains("the server's certificate (CN=intake) was issued by"), "\(untrusted)")
            #expect(
                await log.line(containing: "the client does not trust this side's certificate") != nil,
                "\(log.all)"
            )

            // Each handshake the server refused, or was refused in, is one line; the client that
            // found the wrong name left after the handshake, which the server cannot tell apart
            // from a client that just closed.
            let refusedLines = log.all.filter { $0.contains("TLS handshake refused") }
            #expect(refusedLines.count == 5, "\(refusedLines)")
        }
        // A TLS client at a port in clear.
        let clearLog = CapturedLog()
        try await self.withTLSServer(nil, log: clearLog) { endpoint in
            let source = try TLSContextSource(files: certificates.files("gateway"), role: .client)
            let answer = await self.refusal(endpoint, self.client(ClientTLS(source: source)))
            #expect(answer.contains("did not answer in TLS"), "\(answer)")
            #expect(
                await clearLog.line(containing: "the peer speaks TLS, and this side of the connection is in clear")
                    != nil
            )
        }
    }

    @Test("a reload takes new certificates for new connections; open connections go on; bad files are refused")
    func rotation() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        // The server's files are copies, so that the test can replace them.
        let live = certificates.folder.deletingLastPathComponent().appendingPathComponent("live")
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: true)
        func install(_ name: String, from folder: URL) throws {
            for suffix in ["pem", "key"] {
                let target = live.appendingPathComponent("server.\(suffix)")
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: folder.appendingPathComponent("\(name).\(suffix)"), to: target)
            }
        }
        try install("intake", from: certificates.folder)
        let bothCAs = live.appendingPathComponent("both.pem")
        try
            (try Data(contentsOf: URL(fileURLWithPath: certificates.ca))
            + Data(contentsOf: certificates.other.appendingPathComponent("ca.pem"))).write(to: bothCAs)
        let serverFiles = TLSFiles(
            certificate: live.appendingPathComponent("server.pem").path,
            privateKey: live.appendingPathComponent("server.key").path,
            trustedCA: bothCAs.path
        )
        let server = try TLSContextSource(files: serverFiles, role: .server)
        #expect(try server.reload() == false, "unchanged files are not taken again")
        try await self.withTLSServer(server) { endpoint in
            let oldTrust = try TLSContextSource(files: certificates.files("gateway"), role: .client)
            let open = try await ClientConnection.connect(
                to: endpoint,
                configuration: self.client(ClientTLS(source: oldTrust, serverName: "intake"))
            )
            let request = ByteBuffer(bytes: try EchoRequest(payload: [1, 2, 3]).serializedBytes())
            _ = try await open.unary(path: EchoMethods.unary.path, request: request, options: CallOptions())

            // A damaged certificate is refused, and the one in force stays.
            try Data("not a certificate".utf8).write(to: live.appendingPathComponent("server.pem"))
            #expect(throws: TLSSetupError.self) { try server.reload() }
            #expect(
                await self.refusal(endpoint, self.client(ClientTLS(source: oldTrust, serverName: "intake")))
                    == "connected"
            )

            // The server moves to a certificate from the other CA.
            try install("intake", from: certificates.other)
            #expect(try server.reload() == true)
            let answer = await self.refusal(endpoint, self.client(ClientTLS(source: oldTrust, serverName: "intake")))
            #expect(answer.contains("was issued by"), "a new connection meets the new certificate: \(answer)")
            let newTrust = try TLSContextSource(
                files: certificates.files("gateway", trusting: certificates.other),
                role: .client
            )
            #expect(
                await self.refusal(endpoint, self.client(ClientTLS(source: newTrust, serverName: "intake")))
                    == "connected"
            )
            // The connection opened before goes on.
            let echo = try await open.unary(path: EchoMethods.unary.path, request: request, options: CallOptions())
            #expect(echo.readableBytes > 0)
            await open.close()
        }
    }

    @Test("files that cannot be used are refused at start, naming the file")
    func setupErrors() throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        func failure(_ files: TLSFiles, _ role: TLSContextSource.Role) -> String {
            do {
                _ = try TLSContextSource(files: files, role: role)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        var missing = certificates.files("intake")
        missing.certificate = "/nonexistent/intake.pem"
        #expect(failure(missing, .server).contains("cannot read the TLS file /nonexistent/intake.pem"))
        var mismatched = certificates.files("intake")
        mismatched.privateKey = certificates.folder.appendingPathComponent("gateway.key").path
        #expect(failure(mismatched, .server).contains("it does not belong to it"))
        var keyAsCertificate = certificates.files("intake")
        keyAsCertificate.certificate = keyAsCertificate.privateKey
        #expect(failure(keyAsCertificate, .server).contains("holds no PEM certificate"))
        #expect(failure(TLSFiles(trustedCA: certificates.ca), .server).contains("needs a certificate"))
        #expect(failure(certificates.files("expired"), .server).contains("expired at"))
    }
}
