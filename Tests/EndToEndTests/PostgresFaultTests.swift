import AccordMessages
import AccordRPC
import Foundation
import Synchronization
import Testing

/// A private PostgreSQL server for one test: its own folder and loopback port, started and
/// stopped through Tools/postgres.sh (as the `postgres` user when the tests run as root).
struct PrivatePostgres {
    let directory: String
    let port: Int
    /// Where it runs: loopback, or a simulated host.
    var host: ClusterHost = .loopback

    static var installed: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/postgres")
    }

    static func start(on host: ClusterHost = .loopback) throws -> PrivatePostgres {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-pg-\(UUID().uuidString)"
        ).path
        let server = PrivatePostgres(directory: directory, port: try Self.freePort(), host: host)
        try server.restart()
        return server
    }

    func url(_ database: String) -> String { "postgres://postgres@\(self.host.address):\(self.port)/\(database)" }

    func createDatabase(_ name: String) throws { try self.run("createdb", String(self.port), name, self.host.address) }
    func stop() throws { try self.run("stop", self.directory) }
    func restart() throws { try self.run("start", self.directory, String(self.port), self.host.address) }

    func remove() {
        try? self.stop()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// Runs a psql statement on `database`.
    func sql(_ database: String, _ statement: String) throws {
        let result = try CLITests.run(
            "/usr/lib/postgresql/15/bin/psql",
            ["-h", self.host.address, "-p", String(self.port), "-U", "postgres", "-d", database, "-c", statement]
        )
        guard result.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: result.output + result.errors])
        }
    }

    /// Runs Tools/postgres.sh with its output in a file, not a pipe: the server it starts lives on
    /// and would hold a pipe open.
    private func run(_ arguments: String...) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("accord-pg-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        let script = "\(CLITests.root)/Tools/postgres.sh"
        process.executableURL = URL(fileURLWithPath: self.host.prefix.first ?? script)
        process.arguments = self.host.prefix.isEmpty ? arguments : self.host.prefix.dropFirst() + [script] + arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Reaped here: the server the script leaves running can keep Foundation from noticing.
        var status: Int32 = 0
        while waitpid(process.processIdentifier, &status, 0) == -1 && errno == EINTR {}
        try handle.close()
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw CocoaError(
                .fileWriteUnknown,
                userInfo: [NSLocalizedDescriptionKey: "postgres.sh \(arguments): \(output)"]
            )
        }
    }

    static func freePort() throws -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

@Suite(
    "Services on PostgreSQL: refusing bad storage at start, riding out a database outage",
    .enabled(if: PrivatePostgres.installed, "needs PostgreSQL 15 (make test installs it)"),
    .timeLimit(.minutes(2))
)
struct PostgresFaultTests {
    @Test(
        "a URL that is wrong, reaches no server, or leads to a newer database: the service does not start, saying why"
    )
    func refusesBadStorage() throws {
        let server = try PrivatePostgres.start()
        defer { server.remove() }
        try server.createDatabase("accord_newer")
        try server.sql(
            "accord_newer",
            "CREATE TABLE accord_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now()); INSERT INTO accord_migrations (name) VALUES ('2099-01-01-from-the-future')"
        )
        let cases = [
            ("mysql://root@127.0.0.1/accord", "is not a postgres:// URL"),
            ("postgres://postgres@127.0.0.1:\(try PrivatePostgres.freePort())/accord", "is unavailable"),
            (server.url("no_such_database"), "database \"no_such_database\" does not exist"),
            (server.url("accord_newer"), "written by a newer version"),
        ]
        for (url, expected) in cases {
            let result = try CLITests.run(
                "accord-intake",
                ["--postgres", url, "--port", "0", "--admin-port", "off", "--data-dir", server.directory + "-data"]
            )
            #expect(result.status != 0, "accord-intake started on \(url)")
            let error = result.errors.split(separator: "\n").first { $0.hasPrefix("Error: ") } ?? ""
            #expect(error.contains(expected), "for \(url): \(result.errors.suffix(400))")
        }
    }

    @Test(
        "PostgreSQL stopped under writes and started again: UNAVAILABLE naming it, nothing acknowledged lost, no restart needed"
    )
    func outage() async throws {
        let server = try PrivatePostgres.start()
        defer { server.remove() }
        try server.createDatabase("accord_intake")
        let (intake, port) = try EchoProcessTests.startServer(
            "accord-intake",
            arguments: ["--postgres", server.url("accord_intake"), "--data-dir", server.directory + "-data"]
        )
        defer { if intake.isRunning { intake.terminate() } }
        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        let tally = Tally()
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        var index = 0
                        // Bounded: each writer stops once 20 writes were acknowledged after the
                        // restart, or after 3000 tries.
                        while tally.afterRestart.load(ordering: .relaxed) < 80 && index < 3000 {
                            index += 1
                            let agency = Agency(
                                state: "TX",
                                name: "Outage Police \(writer)-\(index)",
                                type: .municipality
                            )
                            // Deadlines above the store's 10 s statement timeout: a statement
                            // that gets no answer is UNAVAILABLE before the caller gives up.
                            do {
                                let made = try await client.unary(
                                    IntakeMethods.registerAgency,
                                    RegisterAgencyRequest(agency: agency),
                                    options: CallOptions(timeout: .seconds(15))
                                )
                                tally.acknowledged.withLock { $0.append(made.id!) }
                                if tally.phase.load(ordering: .relaxed) == 2 {
                                    tally.afterRestart.add(1, ordering: .relaxed)
                                }
                            } catch let error as RPCError {
                                tally.failures.withLock { $0.append(error) }
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await Self.waitUntil("20 writes acknowledged before the outage") {
            tally.acknowledged.withLock { $0.count } >= 20
        }
        tally.phase.store(1, ordering: .relaxed)
        try server.stop()
        try await Self.waitUntil("10 calls failed during the outage") { tally.failures.withLock { $0.count } >= 10 }
        try server.restart()
        tally.phase.store(2, ordering: .relaxed)
        try await writers.value
        #expect(tally.afterRestart.load(ordering: .relaxed) >= 80, "the service did not recover after the restart")
        let seen = tally.failures.withLock { $0 }
        #expect(seen.allSatisfy { $0.code == .unavailable }, "\(Set(seen.map(\.code.name)))")
        #expect(seen.contains { $0.message.contains("PostgreSQL at 127.0.0.1:\(server.port) is unavailable") })
        // Every acknowledged registration is there.
        var listed: Set<String> = []
        var page = PageRequest(pageSize: 1000)
        while true {
            let answer = try await client.unary(IntakeMethods.listAgencies, ListAgenciesRequest(page: page))
            listed.formUnion(answer.agencies.compactMap(\.id))
            guard let next = answer.page?.nextPageToken, !next.isEmpty else { break }
            page = PageRequest(pageSize: 1000, pageToken: next)
        }
        let ids = tally.acknowledged.withLock { $0 }
        #expect(
            Set(ids).isSubset(of: listed),
            "\(Set(ids).subtracting(listed).count) acknowledged agencies are missing"
        )
        await client.close()
        intake.terminate()
        intake.waitUntilExit()
    }

    @Test(
        "PostgreSQL out of room for the database's files: RESOURCE_EXHAUSTED saying so, degraded health, reads go on, writes resume once there is room"
    )
    func diskFull() async throws {
        let server = try PrivatePostgres.start()
        defer { server.remove() }
        // The database in a tablespace of its own on a small tmpfs (the server's WAL stays on
        // the big disk: PostgreSQL stops altogether when it cannot write its WAL).
        let small = server.directory + "-small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mounted = try StorageTroubleTests.sh(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", small])
        try #require(mounted == 0, "mounting a tmpfs at \(small) failed (the test needs root)")
        defer {
            _ = try? StorageTroubleTests.sh(["umount", "-l", small])
            try? FileManager.default.removeItem(atPath: small)
        }
        _ = try StorageTroubleTests.sh(["chown", "postgres:postgres", small])
        try server.sql("postgres", "CREATE TABLESPACE small LOCATION '\(small)'")
        try server.sql("postgres", "CREATE DATABASE accord_full TABLESPACE small")
        let (intake, port) = try EchoProcessTests.startServer(
            "accord-intake",
            arguments: ["--postgres", server.url("accord_full"), "--data-dir", server.directory + "-data"]
        )
        defer { if intake.isRunning { intake.terminate() } }
        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        var acknowledged: [String] = []
        for index in 0..<20 { acknowledged.append(try await StorageTroubleTests.register(client, index)) }
        // Fill what is left of the tablespace's file system.
        let filler = "\(small)/filler"
        _ = try StorageTroubleTests.sh(["dd", "if=/dev/zero", "of=\(filler)", "bs=64k"])
        var refusal: RPCError?
        for index in 20..<2000 {
            do {
                acknowledged.append(try await StorageTroubleTests.register(client, index))
            } catch let error as RPCError {
                refusal = error
                break
            }
        }
        let refused = try #require(refusal, "2000 registrations went through on a full file system")
        #expect(refused.code == .resourceExhausted, "\(refused)")
        #expect(refused.message.contains("storage is full"), "\(refused)")
        let degraded = try await StorageTroubleTests.health(client).degraded
        #expect(degraded?.contains("storage is full") == true, "\(degraded ?? "not degraded")")
        #expect(try await StorageTroubleTests.listed(client).isSuperset(of: acknowledged), "reads stopped")
        // Room again: writes resume without a restart, and health clears.
        try FileManager.default.removeItem(atPath: filler)
        acknowledged.append(try await StorageTroubleTests.register(client, 5000))
        #expect(try await StorageTroubleTests.health(client).degraded == nil)
        #expect(
            try await StorageTroubleTests.listed(client).isSuperset(of: acknowledged),
            "an acknowledged agency is missing"
        )
        await client.close()
        intake.terminate()
        intake.waitUntilExit()
        try server.sql("postgres", "DROP DATABASE accord_full")
        try server.sql("postgres", "DROP TABLESPACE small")
    }

    /// What the writers saw, shared with the test.
    final class Tally: Sendable {
        let acknowledged = Mutex<[String]>([])
        let failures = Mutex<[RPCError]>([])
        /// 0 before the outage, 1 during it, 2 after the restart.
        let phase = Atomic<Int>(0)
        let afterRestart = Atomic<Int>(0)
    }

    /// Waits (up to a minute: the machine may be busy with other tests' processes) until
    /// `condition` holds; throws naming `what` when it never does.
    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw ProcessStorageError("gave up waiting: \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
