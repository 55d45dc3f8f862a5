import AccordMessages
import AccordRPC
import Foundation
import GRDB
import NIOCore
import Synchronization
import Testing

/// The restore drill: `accord-backup create` on a set under load, `accord-backup restore` into a
/// fresh data directory, and a new set started on it. On the PostgreSQL pass of `make test` the
/// stores are PostgreSQL databases and the copies are pg_dumps.
@Suite("backups that restore: a set backed up under load, restored into a fresh one", .timeLimit(.minutes(5)))
struct BackupRestoreTests {
    /// The writes the test's own writer had acknowledged.
    final class Acknowledged: Sendable {
        let agencies = Mutex<[String]>([])
        let requests = Mutex<[String]>([])
    }

    /// One store's rows, as text, on whichever engine this pass runs.
    static func rows(_ service: String, data: String, _ sql: String) throws -> [[String]] {
        if let server = ProcessStorage.server {
            let url = try ProcessStorage.database(for: service, folder: data, on: server)
            let output = try ProcessStorage.psql(url, sql)
            return output.split(separator: "\n").map {
                $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            }
        }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: "\(data)/\(service)/\(service).sqlite", configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: sql).map { row in
                (0..<row.count).map { index in
                    let value: DatabaseValue = row[index]
                    switch value.storage {
                    case .null: return ""
                    case .int64(let integer): return "\(integer)"
                    case .double(let real): return "\(real)"
                    case .string(let text): return text
                    case .blob(let bytes): return "\(bytes.count) bytes"
                    }
                }
            }
        }
    }

    static func endpoint(_ address: String) -> Endpoint {
        Endpoint(host: "127.0.0.1", port: Int(address.split(separator: ":").last ?? "") ?? 0)
    }

    static func count(_ service: String, data: String, _ sql: String) throws -> Int {
        Int(try Self.rows(service, data: data, sql).first?.first ?? "") ?? -1
    }

    /// `--postgres-SERVICE URL` for each store of `data` on the PostgreSQL pass; nothing on SQLite.
    static func postgresFlags(_ data: String) throws -> [String] {
        guard let server = ProcessStorage.server else { return [] }
        return try ["intake", "qualification", "supervision", "gateway"].flatMap {
            ["--postgres-\($0)", try ProcessStorage.database(for: $0, folder: data, on: server)]
        }
    }

    /// Registers agencies and submits a request for each through the gateway until cancelled,
    /// noting each write once it is acknowledged.
    static func write(_ client: RPCClient, _ options: CallOptions, _ seen: Acknowledged) async {
        var round = 0
        while !Task.isCancelled {
            round += 1
            do {
                let agency = try await client.unary(
                    IntakeMethods.registerAgency,
                    RegisterAgencyRequest(
                        agency: Agency(state: "TX", name: "Backup Drill County \(round)", type: .county, hasJail: true)
                    ),
                    options: options
                )
                seen.agencies.withLock { $0.append(agency.id!) }
                let request = try await client.unary(
                    IntakeMethods.submitRequest,
                    SubmitRequestRequest(
                        request: ParticipationRequest(
                            agencyId: agency.id,
                            model: .jem,
                            partner: .ice,
                            consent: Consent(
                                officialName: "Sheriff \(round)",
                                office: "Sheriff",
                                signedOn: "2026-11-02"
                            ),
                            needs: NeedsAssessment(
                                expectedAnnualEncounters: 50,
                                detentionCapacity: 40,
                                officersProposed: 2
                            )
                        )
                    ),
                    options: options
                )
                seen.requests.withLock { $0.append(request.id!) }
            } catch {
                // Not acknowledged, so not counted; the load goes on.
                if Task.isCancelled { return }
            }
        }
    }

    @Test("every write acknowledged before the backup is restored, the audit verifies, the outboxes settle")
    func drill() async throws {
        let original = try CLITests.start()
        var stopped = false
        defer { if !stopped { original.stop() } }
        let client = RPCClient(
            endpoints: [Self.endpoint(original.gateway)],
            logger: .init(label: "test.backup")
        )
        let programOffice = CallOptions(
            timeout: .seconds(10),
            metadata: [MetadataKey.authorization: "Bearer \(original.tokens["program-office"]!)"]
        )
        // The seeded lists are in before anything else.
        _ = try await SupervisionProcessTests.eventually(seconds: 60) {
            try Self.count("intake", data: original.data, "SELECT count(*) FROM outbox WHERE delivered_at_ms IS NULL")
                == 0 ? true : nil
        }
        // Load: agency journeys through the gateway (requests decided, agreements offered and
        // signed, officers certified and authorized), and the test's own writer beside them.
        let load = Process()
        load.executableURL = EchoProcessTests.binDirectory.appendingPathComponent("accord-load")
        load.arguments = [
            "lifecycle", "--target", original.gateway, "--token", original.tokens["program-office"]!,
            "--operator-token", original.tokens["operator"]!, "--concurrency", "2", "--duration", "60s",
            "--warmup", "0s",
        ]
        load.standardOutput = FileHandle.nullDevice
        load.standardError = FileHandle.nullDevice
        try load.run()
        defer { if load.isRunning { load.terminate() } }
        let seen = Acknowledged()
        let writer = Task { await Self.write(client, programOffice, seen) }
        // Wait until the load has made work for every outbox.
        _ = try await SupervisionProcessTests.eventually(seconds: 60) {
            let progress = try Self.count("supervision", data: original.data, "SELECT count(*) FROM outbox")
            let certified = try Self.count(
                "qualification",
                data: original.data,
                "SELECT count(*) FROM officer WHERE supervision_notified_at_ms IS NOT NULL"
            )
            return progress > 0 && certified > 0 && seen.requests.withLock { $0.count } >= 20 ? true : nil
        }
        let agenciesBefore = seen.agencies.withLock { $0 }
        let requestsBefore = seen.requests.withLock { $0 }
        let backup = original.data + "-backup"
        let created = try CLITests.run(
            "accord-backup",
            // Two seconds between stores: each snapshot is of another moment, with hand-offs between them.
            ["create", "--to", backup, "--data-dir", original.data, "--pause-seconds", "2"]
                + Self.postgresFlags(original.data)
        )
        writer.cancel()
        await writer.value
        load.terminate()
        load.waitUntilExit()
        #expect(created.status == 0, "accord-backup create: \(created.errors)")
        for service in ["intake", "qualification", "supervision", "gateway"] {
            #expect(created.output.contains("\(service): \(service)."), "\(created.output)")
        }
        if !ProcessStorage.onPostgres { #expect(created.output.contains("entries intact"), "\(created.output)") }
        #expect(
            seen.agencies.withLock { $0.count } > agenciesBefore.count,
            "the writer went on while the backup ran"
        )
        original.stop()
        for process in original.processes.values { process.waitUntilExit() }
        stopped = true

        // A restore into a directory that already holds the stores is refused, changing nothing.
        let refused = try CLITests.run(
            "accord-backup",
            ["restore", "--from", backup, "--data-dir", original.data] + Self.postgresFlags(original.data)
        )
        #expect(
            refused.status != 0 && (refused.errors.contains("already exists") || refused.errors.contains("not empty")),
            "\(refused.errors)"
        )
        // A damaged copy is found before anything is restored.
        let fresh = original.data + "-restored"
        let damaged = original.data + "-damaged"
        try FileManager.default.copyItem(atPath: backup, toPath: damaged)
        let victim = try #require(
            try FileManager.default.contentsOfDirectory(atPath: damaged).first { $0.hasPrefix("supervision.") }
        )
        let handle = try #require(FileHandle(forUpdatingAtPath: "\(damaged)/\(victim)"))
        try handle.seek(toOffset: 4096)
        let byte = try handle.read(upToCount: 1) ?? Data([0])
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data([byte[0] ^ 0xFF]))
        try handle.close()
        let rejected = try CLITests.run(
            "accord-backup",
            ["restore", "--from", damaged, "--data-dir", fresh] + Self.postgresFlags(fresh)
        )
        #expect(
            rejected.status == 1 && rejected.errors.contains("\(victim) does not match its SHA-256"),
            "\(rejected.errors)"
        )
        #expect(!FileManager.default.fileExists(atPath: "\(fresh)/intake"), "a rejected restore wrote something")
        let restored = try CLITests.run(
            "accord-backup",
            ["restore", "--from", backup, "--data-dir", fresh] + Self.postgresFlags(fresh)
        )
        #expect(restored.status == 0, "accord-backup restore: \(restored.errors)")
        let given = restored.output.split(separator: "\n").flatMap { line in
            line.split(separator: " ").enumerated().compactMap { index, word in
                word == "rows" ? Int(line.split(separator: " ")[index - 1]) : nil
            }
        }
        #expect(given.reduce(0, +) > 0, "no delivery was given back to an outbox: \(restored.output)")

        // The restored set, with the tokens of the original (the gateway's store came back too).
        let set = try CLITests.start(seedICE: false, restored: (fresh, original.tokens))
        defer { set.stop() }
        let restoredClient = RPCClient(
            endpoints: [Self.endpoint(set.gateway)],
            logger: .init(label: "test.backup")
        )
        // Every agency and request acknowledged before the backup began is there.
        for agency in agenciesBefore {
            let found = try await SupervisionProcessTests.eventually(seconds: 30) {
                try await restoredClient.unary(
                    IntakeMethods.getAgency,
                    GetAgencyRequest(agency: agency),
                    options: programOffice
                )
            }
            #expect(found?.id == agency, "agency \(agency), acknowledged before the backup, is missing")
        }
        let requestIDs = Set(try Self.rows("intake", data: fresh, "SELECT rowid FROM request").map { "rq_\($0[0])" })
        #expect(Set(requestsBefore).isSubset(of: requestIDs), "requests acknowledged before the backup are missing")
        // The audit trail verifies on the restored service.
        let verify = try set.accord(["audit", "verify"], as: "auditor")
        #expect(verify.status == 0 && verify.output.contains("intact"), "\(verify.output) \(verify.errors)")

        // The outboxes send what was given back, and the services agree again.
        let problems = try await SupervisionProcessTests.eventually(seconds: 90) { () -> [String]? in
            let left = try Self.disagreements(fresh)
            return left.isEmpty ? [] : nil
        }
        let left = (try? Self.disagreements(fresh)) ?? ["cannot read the stores"]
        #expect(problems != nil, "still disagreeing: \(left)")

        // A chain tampered with in the original: the backup says BROKEN and keeps the set.
        if !ProcessStorage.onPostgres {
            let supervision = try DatabaseQueue(path: "\(original.data)/supervision/supervision.sqlite")
            try await supervision.write { db in
                try db.execute(sql: "UPDATE supervisor SET name = name || ' (edited)' WHERE rowid = 1")
            }
            try supervision.close()
            let evidence = original.data + "-evidence"
            let tampered = try CLITests.run("accord-backup", ["create", "--to", evidence, "--data-dir", original.data])
            #expect(tampered.status == 1 && tampered.errors.contains("BROKEN at"), "\(tampered.errors)")
            #expect(tampered.errors.contains("kept as evidence"), "\(tampered.errors)")
            #expect(FileManager.default.fileExists(atPath: "\(evidence)/manifest.json"), "the set was not kept")
        }
        await client.close()
        await restoredClient.close()
    }

    /// What keeps the restored stores from agreeing: outbox rows not yet sent, a decision
    /// qualification made that intake does not have, progress supervision told that intake does
    /// not show.
    static func disagreements(_ data: String) throws -> [String] {
        var problems: [String] = []
        let pending = [
            ("intake", "SELECT count(*) FROM outbox WHERE delivered_at_ms IS NULL"),
            ("qualification", "SELECT count(*) FROM evaluation WHERE reported_at_ms IS NULL"),
            ("qualification", "SELECT count(*) FROM officer WHERE status = 2 AND supervision_notified_at_ms IS NULL"),
            ("supervision", "SELECT count(*) FROM outbox WHERE delivered_at_ms IS NULL"),
        ]
        for (service, sql) in pending {
            let count = try Self.count(service, data: data, sql)
            if count != 0 { problems.append("\(service): \(count) rows pending (\(sql))") }
        }
        var requests: [String: (revision: String, status: Int32)] = [:]
        for row in try Self.rows("intake", data: data, "SELECT rowid, revision, status FROM request") {
            requests["rq_\(row[0])"] = (row[1], Int32(row[2]) ?? 0)
        }
        let undecided: Set<Int32> = [RequestStatus.received.rawValue, RequestStatus.underReview.rawValue]
        for row in try Self.rows("qualification", data: data, "SELECT request_id, revision FROM evaluation") {
            if let request = requests[row[0]], request.revision == row[1], undecided.contains(request.status) {
                problems.append("\(row[0]) revision \(row[1]) was evaluated but intake has it undecided")
            }
        }
        let order: [Int32: Int] = [
            RequestStatus.agreementOffered.rawValue: 1, RequestStatus.signed.rawValue: 2,
        ]
        let ended: Set<Int32> = [RequestStatus.withdrawn.rawValue, RequestStatus.denied.rawValue]
        for row in try Self.rows("supervision", data: data, "SELECT request_id, status FROM outbox") {
            guard let request = requests[row[0]], !ended.contains(request.status),
                let told = order[Int32(row[1]) ?? 0]
            else { continue }
            if (order[request.status] ?? 0) < told {
                problems.append("supervision told \(row[0]) status \(row[1]); intake has it at \(request.status)")
            }
        }
        return problems
    }
}
