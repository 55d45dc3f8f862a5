import AccordMessages
import AccordRPC
import Foundation
import Testing

/// Intake's data directory on a small tmpfs of its own: filled up, then made read-only. On the
/// full disk callers are told so (not INTERNAL), health says the service is degraded for writes,
/// a metric counts the refusals, reads go on, and writes resume without a restart once there is
/// room. On a read-only one the service does not start, naming the directory and the cause.
/// Nothing acknowledged is lost.
@Suite("storage trouble told plainly, over a real process", .timeLimit(.minutes(3)))
struct StorageTroubleTests {
    static func sh(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func register(_ client: RPCClient, _ index: Int) async throws -> String {
        try await client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(
                agency: Agency(state: "TX", name: "Storage Test Police Department \(index)", type: .municipality),
                reason: String(repeating: "a reason long enough to take room ", count: 12)
            ),
            options: CallOptions(timeout: .seconds(20))
        ).id!
    }

    static func health(_ client: RPCClient) async throws -> HealthCheckResponse {
        try await client.unary(HealthMethods.check, HealthCheckRequest(), options: CallOptions(timeout: .seconds(5)))
    }

    static func listed(_ client: RPCClient) async throws -> Set<String> {
        var ids: Set<String> = []
        var page = PageRequest(pageSize: 1000)
        while true {
            let answer = try await client.unary(IntakeMethods.listAgencies, ListAgenciesRequest(page: page))
            ids.formUnion(answer.agencies.compactMap(\.id))
            guard let next = answer.page?.nextPageToken, !next.isEmpty else { return ids }
            page = PageRequest(pageSize: 1000, pageToken: next)
        }
    }

    @Test(
        "a full disk: RESOURCE_EXHAUSTED saying so, degraded health, a metric, reads go on, writes resume; a read-only directory refused at start, saying why"
    )
    func fullThenReadOnly() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("accord-full-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let mounted = try Self.sh(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", data])
        try #require(mounted == 0, "mounting a tmpfs at \(data) failed (the test needs root)")
        defer {
            _ = try? Self.sh(["umount", data])
            try? FileManager.default.removeItem(atPath: data)
        }
        let (process, ports) = try EchoProcessTests.startServerWithAdmin(
            "accord-intake",
            arguments: ["--data-dir", data],
            adminPort: true
        )
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let admin = try #require(ports.admin)
        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: ports.rpc)])
        var acknowledged: [String] = []
        for index in 0..<20 { acknowledged.append(try await Self.register(client, index)) }
        #expect(try await Self.health(client).degraded == nil)

        // Fill the file system: a filler file until it is full.
        let filler = "\(data)/filler"
        _ = try Self.sh(["dd", "if=/dev/zero", "of=\(filler)", "bs=64k"])
        var refusal: RPCError?
        for index in 20..<5020 {
            do {
                acknowledged.append(try await Self.register(client, index))
            } catch let error as RPCError {
                refusal = error
                break
            }
        }
        let full = try #require(refusal, "5,000 registrations fitted on a full disk")
        #expect(full.code == .resourceExhausted && full.message.contains("storage is full"), "\(full)")
        let degraded = try await Self.health(client).degraded
        #expect(degraded?.contains("storage is full") == true, "\(degraded ?? "not degraded")")
        let metrics = try await EchoProcessTests.httpGet(port: admin, path: "/metrics")
        #expect(
            (EchoProcessTests.metric(metrics, "accord_storage_write_failures_total{kind=\"full\"} ") ?? 0) >= 1,
            "\(metrics.split(separator: "\n").filter { $0.contains("storage") })"
        )
        // Reads go on.
        #expect(try await Self.listed(client).isSuperset(of: acknowledged))

        // Room again: writes resume, no restart, and health clears.
        try FileManager.default.removeItem(atPath: filler)
        acknowledged.append(try await Self.register(client, 9000))
        #expect(try await Self.health(client).degraded == nil)

        #expect(try await Self.listed(client).isSuperset(of: acknowledged), "an acknowledged agency is missing")
        await client.close()
        process.terminate()
        process.waitUntilExit()

        // A data directory that cannot be written: the service does not start, saying which and why.
        try #require(try Self.sh(["mount", "-o", "remount,ro", data]) == 0)
        let refused = try CLITests.run(
            "/usr/bin/timeout",
            ["20", EchoProcessTests.binDirectory.appendingPathComponent("accord-intake").path]
                + ["--data-dir", data, "--port", "0", "--admin-port", "off"]
        )
        #expect(refused.status != 0 && refused.status != 124, "it started on a read-only directory")
        #expect(
            refused.errors.contains("cannot be written: Read-only file system"),
            "\(refused.errors.suffix(500))"
        )
        try #require(try Self.sh(["mount", "-o", "remount,rw", data]) == 0)
        let (again, port) = try EchoProcessTests.startServer("accord-intake", arguments: ["--data-dir", data])
        defer {
            again.terminate()
            again.waitUntilExit()
        }
        let reopened = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        acknowledged.append(try await Self.register(reopened, 9001))
        #expect(try await Self.listed(reopened).isSuperset(of: acknowledged), "an acknowledged agency is missing")
        await reopened.close()
    }

    @Test(
        "a data directory moved away under the running service: writes refused as UNAVAILABLE naming the file, then resumed once it is back"
    )
    func directoryMovedAway() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("accord-gone-\(UUID().uuidString)")
            .path
        let (process, port) = try EchoProcessTests.startServer("accord-intake", arguments: ["--data-dir", data])
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        var acknowledged: [String] = []
        for index in 0..<5 { acknowledged.append(try await Self.register(client, index)) }
        // The files stay open in the process: without the check, the next writes would go to a
        // file no one could open again, and be lost at the restart.
        try FileManager.default.moveItem(atPath: "\(data)/intake", toPath: "\(data)/intake-away")
        let refused = await #expect(throws: RPCError.self) { try await Self.register(client, 100) }
        #expect(refused?.code == .unavailable, "\(String(describing: refused))")
        #expect(refused?.message.contains("intake.sqlite is gone") == true, "\(String(describing: refused))")
        let degraded = try await Self.health(client).degraded
        #expect(degraded?.contains("is gone") == true, "\(degraded ?? "not degraded")")
        // Reads go on from what is open.
        #expect(try await Self.listed(client).isSuperset(of: acknowledged))
        try FileManager.default.moveItem(atPath: "\(data)/intake-away", toPath: "\(data)/intake")
        acknowledged.append(try await Self.register(client, 101))
        #expect(try await Self.health(client).degraded == nil)
        await client.close()
        process.terminate()
        process.waitUntilExit()
        let (again, againPort) = try EchoProcessTests.startServer("accord-intake", arguments: ["--data-dir", data])
        defer {
            again.terminate()
            again.waitUntilExit()
        }
        let reopened = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: againPort)])
        let listed = try await Self.listed(reopened)
        #expect(listed.isSuperset(of: acknowledged), "an acknowledged agency is missing")
        #expect(listed.count == acknowledged.count, "the refused write was kept")
        await reopened.close()
    }
}
