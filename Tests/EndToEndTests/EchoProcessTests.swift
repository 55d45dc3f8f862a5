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

    static func freePort() -> Int { Int.random(in: 20_000..<40_000) }

    @Test("serves health and echo, exposes metrics, and stops gracefully on SIGTERM")
    func lifecycle() async throws {
        let port = Self.freePort()
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent("accord-echo")
        process.arguments = ["--port", "\(port)", "--admin-port=-1", "--log-level", "warning"]
        try process.run()
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
