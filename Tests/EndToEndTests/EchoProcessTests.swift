import AccordMessages
import AccordRPC
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `accord-echo` executable, started as a process and driven over loopback.
@Suite("accord-echo process", .timeLimit(.minutes(2)))
struct EchoProcessTests {
    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["ACCORD_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug")
            .standardized
    }

    /// Starts an executable on port 0 and reads the ports it bound from its log lines
    /// ("Server listening", and "Admin endpoint listening" when the admin port is on).
    static func startServer(
        _ executable: String = "accord-echo",
        arguments: [String] = [],
        adminPort: Bool = false,
        logs: LogCollector? = nil
    ) throws -> (Process, Int) {
        let (process, ports) = try self.startServerWithAdmin(
            executable,
            arguments: arguments,
            adminPort: adminPort,
            logs: logs
        )
        return (process, ports.rpc)
    }

    /// `prefix` runs the executable through another program (`ip netns exec NAME`).
    static func startServerWithAdmin(
        _ executable: String,
        arguments: [String],
        adminPort: Bool,
        prefix: [String] = [],
        logs collector: LogCollector? = nil
    ) throws -> (Process, (rpc: Int, admin: Int?)) {
        let process = Process()
        let path = Self.binDirectory.appendingPathComponent(executable)
        let arguments = try ProcessStorage.arguments(
            for: executable,
            ["--port", "0", "--admin-port", adminPort ? "0" : "off", "--log-level", "info"] + arguments
        )
        if let program = prefix.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = prefix.dropFirst() + [path.path] + arguments
        } else {
            process.executableURL = path
            process.arguments = arguments
        }
        let logs = Pipe()
        process.standardError = logs
        try process.run()
        var seen = ""
        let markers = adminPort ? ["Server listening", "Admin endpoint listening"] : ["Server listening"]
        while !markers.allSatisfy({ seen.contains($0) }) {
            let data = logs.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        // Keep draining the logs so that the server never blocks on a full pipe; with
        // ACCORD_TEST_LOG_DIR set, into a file there per process (for a failure's story).
        let keep = ProcessInfo.processInfo.environment["ACCORD_TEST_LOG_DIR"].flatMap { folder -> FileHandle? in
            let path = "\(folder)/\(executable)-\(process.processIdentifier).log"
            FileManager.default.createFile(atPath: path, contents: Data(seen.utf8))
            return FileHandle(forWritingAtPath: path)
        }
        collector?.append(seen)
        logs.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            collector?.append(String(decoding: data, as: UTF8.self))
            if let keep, !data.isEmpty {
                try? keep.seekToEnd()
                keep.write(data)
            }
        }
        func port(after marker: String) -> Int? {
            guard let line = seen.split(separator: "\n").first(where: { $0.contains(marker) }),
                let range = line.range(of: #":(\d+)""#, options: .regularExpression)
            else { return nil }
            return Int(line[range].dropFirst().dropLast())
        }
        guard let rpc = port(after: "Server listening") else {
            process.terminate()
            throw CocoaError(
                .fileReadCorruptFile,
                userInfo: [NSLocalizedDescriptionKey: "no listening line in: \(seen)"]
            )
        }
        return (process, (rpc, adminPort ? port(after: "Admin endpoint listening") : nil))
    }

    /// The body of `GET http://127.0.0.1:PORT/PATH`.
    static func httpGet(port: Int, path: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return String(decoding: data, as: UTF8.self)
    }

    /// The value of the first metric line that starts with `prefix`.
    static func metric(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }
            .flatMap { $0.split(separator: " ").last }
            .flatMap { Double($0) }
    }

    @Test("serves health and echo, exposes metrics, and stops gracefully on SIGTERM")
    func lifecycle() async throws {
        let (process, ports) = try Self.startServerWithAdmin("accord-echo", arguments: [], adminPort: true)
        defer { if process.isRunning { process.terminate() } }
        let admin = try #require(ports.admin)

        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: ports.rpc)])
        let health = try await client.unary(HealthMethods.check, HealthCheckRequest())
        #expect(health.status == .serving)
        #expect(health.server?.hasPrefix("accord-echo") == true)
        let echo = try await client.unary(EchoMethods.unary, EchoRequest(payload: Array("ping".utf8)))
        #expect(echo.payload == Array("ping".utf8))

        let started = #"accord_rpc_server_started_total{method="/accord.v1.Echo/Unary"}"#
        let metrics = try await Self.httpGet(port: admin, path: "/metrics")
        #expect(Self.metric(metrics, started) == 1)
        #expect(
            Self.metric(metrics, #"accord_rpc_server_handled_total{method="/accord.v1.Health/Check",code="OK"}"#) == 1
        )
        #expect(try await Self.httpGet(port: admin, path: "/healthz") == "ok\n")

        // A call in flight when SIGTERM arrives still completes. The signal is sent once the
        // server's metrics show the call has started.
        let slow = Task { try await client.unary(EchoMethods.unary, EchoRequest(payload: [1], delayMs: 1000)) }
        var inFlight = false
        for _ in 0..<200 where !inFlight {
            inFlight = Self.metric(try await Self.httpGet(port: admin, path: "/metrics"), started) == 2
            if !inFlight { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        #expect(inFlight)
        kill(process.processIdentifier, SIGTERM)
        #expect(try await slow.value.payload == [1])
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        await client.close()
    }

    @Test("a client written in Python from docs/PROTOCOL.md alone works with the server")
    func pythonClientFromTheSpec() throws {
        let (server, port) = try Self.startServer()
        defer { server.terminate() }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Interop/python_client.py").standardized
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        client.arguments = ["python3", script.path, "127.0.0.1", "\(port)"]
        let output = Pipe()
        client.standardOutput = output
        try client.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        client.waitUntilExit()
        #expect(client.terminationStatus == 0, "\(text)")
        #expect(text.contains("11 passed, 0 failed"), "\(text)")
    }

    @Test("a bad flag exits non-zero with a message naming it")
    func badFlag() throws {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent("accord-echo")
        process.arguments = ["--port", "not-a-port"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("port"))
    }
}

/// What a server process has logged so far, for tests that wait on a log line.
final class LogCollector: Sendable {
    private let text = Mutex("")

    func append(_ more: String) {
        self.text.withLock { $0 += more }
    }

    /// How many lines hold `marker`.
    func count(_ marker: String) -> Int {
        self.text.withLock { $0.components(separatedBy: marker).count - 1 }
    }
}
