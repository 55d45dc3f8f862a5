import AccordServiceKit
import AccordStorage
import Foundation

/// A PostgreSQL store's backup: pg_dump of one snapshot (custom format), restored with pg_restore
/// into an empty database.
enum PostgresBackup {
    static func dump(_ store: BackedUpStore, url: String, into directory: String) throws -> Manifest.Store {
        let file = "\(store.service).pgdump"
        let partial = "\(directory)/\(file).partial"
        // The offset first and the moment before pg_dump takes its snapshot: the moment recorded
        // is never later than the snapshot's.
        let offset = try Self.clockOffset(url)
        let takenAt = ServiceClock.realTime() + offset
        try Self.run("pg_dump", ["--format=custom", "--no-owner", "--file", partial, "--dbname", url])
        try SQLiteBackup.putInPlace(partial, at: "\(directory)/\(file)")
        let bytes = (try FileManager.default.attributesOfItem(atPath: "\(directory)/\(file)")[.size] as? Int64) ?? 0
        return Manifest.Store(
            service: store.service,
            engine: "postgres",
            file: file,
            bytes: bytes,
            sha256: try Digest.file("\(directory)/\(file)"),
            takenAtMs: takenAt,
            clockOffsetMs: offset
        )
    }

    /// Refuses a database that already holds tables.
    static func requireEmpty(_ url: String, service: String) throws {
        let tables = try Self.psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        guard tables.trimmingCharacters(in: .whitespacesAndNewlines) == "0" else {
            throw Failed(
                "\(service)'s database \(Self.redacted(url)) is not empty: restore into a new database (createdb)"
            )
        }
    }

    static func restore(
        _ store: BackedUpStore,
        from file: String,
        into url: String,
        since: Int64
    ) throws -> [(mark: DeliveryMark, rows: Int)] {
        try Self.run("pg_restore", ["--exit-on-error", "--no-owner", "--single-transaction", "--dbname", url, file])
        return try store.redelivery.map { mark in
            var given = 0
            for (index, statement) in mark.redeliveryStatements(since: since).enumerated() {
                let tag = try Self.psql(url, statement, quiet: false)
                if index == 0 {
                    // "UPDATE 12"
                    let words = tag.split(whereSeparator: { $0 == " " || $0 == "\n" })
                    given = words.last.flatMap { Int($0) } ?? 0
                }
            }
            return (mark, given)
        }
    }

    /// The simulated clock's last offset recorded in the database (0 on real time).
    static func clockOffset(_ url: String) throws -> Int64 {
        let exists = try Self.psql(url, "SELECT to_regclass('simulated_clock_move') IS NOT NULL")
        guard exists.trimmingCharacters(in: .whitespacesAndNewlines) == "t" else { return 0 }
        let offset = try Self.psql(url, "SELECT offset_ms FROM simulated_clock_move ORDER BY sequence DESC LIMIT 1")
        return Int64(offset.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// One statement through psql; its output (the command's tag too unless `quiet`).
    static func psql(_ url: String, _ statement: String, quiet: Bool = true) throws -> String {
        try Self.run(
            "psql",
            ["--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-tA"] + (quiet ? ["-q"] : []) + [
                "--dbname", url, "-c", statement,
            ]
        )
    }

    /// Runs a PostgreSQL client program (from PATH, else PostgreSQL's own bin directory); its
    /// standard output, or a failure naming the program and what it said.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.find(program))
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both before waiting: a full pipe would stop the program.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let said = String(decoding: errorData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failed("\(program) failed (exit \(process.terminationStatus)): \(said)")
        }
        return String(decoding: outputData, as: UTF8.self)
    }

    static func find(_ program: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        var candidates = path.split(separator: ":").map { "\($0)/\(program)" }
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin/\(program)" }
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failed("\(program) is not installed (PostgreSQL's client programs are needed for a PostgreSQL store)")
        }
        return found
    }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "…"
        return parts.string ?? url
    }
}
