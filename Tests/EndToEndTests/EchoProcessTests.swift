import AccordMessages
import AccordRPC
import Foundation
import Testing

/// The real `accord-echo` executable, started as a process and driven over loopback.
@Suite("accord-echo process", .timeLimit(.minutes(2)))
struct EchoProcessTests {
    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["ACCORD_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug")
            .standardized
    }

    /// Starts accord-echo on port 0 and reads the port it bound from its "Server listening" log line.
    static func startServer(_ executable: String = "accord-echo", arguments: [String] = []) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(executable)
        process.arguments = ["--port", "0", "--admin-port", "off", "--log-level", "info"] + arguments
        let logs = Pipe()
        process.standardError = logs
        try process.run()
        var seen = ""
        while !seen.contains("Server listening") {
            let data = logs.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        guard let line = seen.split(separator: "\n").first(where: { $0.contains("Server listening") }),
            let range = line.range(of: #":(\d+)""#, options: .regularExpression),
            let port = Int(line[range].dropFirst().dropLast())
        else {
            process.terminate()
            throw CocoaError(
                .fileReadCorruptFile,
                userInfo: [NSLocalizedDescriptionKey: "no listening line in: \(seen)"]
            )
        }
        return (process, port)
    }

    @Test("serves health and echo, exposes metrics, and stops gracefully on SIGTERM")
    func lifecycle() async throws {
        let (process, port) = try Self.startServer()
        defer { if process.isRunning { process.terminate() } }

        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        var health: HealthCheckResponse?
        for _ in 0..<100 where health == nil {
            health = try? await client.unary(HealthMethods.check, HealthCheckRequest())
            if health == nil { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        #expect(health?.status == .serving)
        #expect(health?.server?.hasPrefix("accord-echo") == true)
        let echo = try await client.unary(EchoMethods.unary, EchoRequest(payload: Array("ping".utf8)))
        #expect(echo.payload == Array("ping".utf8))

        // A call in flight when SIGTERM arrives still completes.
        let slow = Task { try await client.unary(EchoMethods.unary, EchoRequest(payload: [1], delayMs: 500)) }
        try await Task.sleep(nanoseconds: 100_000_000)
        kill(process.processIdentifier, SIGTERM)
        #expect(try await slow.value.payload == [1])
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
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
