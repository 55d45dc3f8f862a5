import AccordServiceKit
import AccordStorage
import ArgumentParser
import Crypto
import Foundation
import Gateway
import Intake
import Qualification
import Supervision

/// Backs up every service's store while the services run, and restores a backup set into a
/// fresh deployment.
@main
struct AccordBackup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-backup",
        abstract: "Back up every Accord store online, and restore a backup set into a fresh deployment.",
        discussion: """
            A SQLite store is copied with SQLite's online backup (one snapshot, taken while the service \
            writes on); a PostgreSQL store with pg_dump. Each store is a snapshot of its own moment: a \
            restore gives the outbox rows delivered since the first of them back to their outboxes, and \
            the services, once started on the restored data, send them again.
            """,
        subcommands: [Create.self, Restore.self]
    )

    /// Every file this program writes is its owner's alone: the copies hold every record.
    static func ownerOnly() { umask(0o077) }

    /// The stores in the order they are taken: intake, where the program's work starts, first.
    static let stores: [BackedUpStore] = [.intake, .qualification, .supervision, .gateway]
}

/// Where each store is: SQLite files under a data directory, or a PostgreSQL database per service.
struct StoreLocations: ParsableArguments {
    @Option(help: "The data directory the services run on (ACCORD_DATA_DIR). Default ./data.")
    var dataDir: String?

    @Option(help: ArgumentHelp("Intake's PostgreSQL database, if it is not on SQLite.", valueName: "postgres-url"))
    var postgresIntake: String?

    @Option(help: ArgumentHelp("Qualification's PostgreSQL database.", valueName: "postgres-url"))
    var postgresQualification: String?

    @Option(help: ArgumentHelp("Supervision's PostgreSQL database.", valueName: "postgres-url"))
    var postgresSupervision: String?

    @Option(help: ArgumentHelp("The gateway's PostgreSQL database.", valueName: "postgres-url"))
    var postgresGateway: String?

    func validate() throws {
        for service in AccordBackup.stores.map(\.service) { _ = try self.postgres(service) }
    }

    var dataDirectory: String {
        self.dataDir ?? ProcessInfo.processInfo.environment["ACCORD_DATA_DIR"] ?? "./data"
    }

    /// The PostgreSQL URL of `service`, nil when it keeps its data in SQLite.
    func postgres(_ service: String) throws -> String? {
        let url: String? =
            switch service {
            case "intake": self.postgresIntake
            case "qualification": self.postgresQualification
            case "supervision": self.postgresSupervision
            default: self.postgresGateway
            }
        guard let url, !url.isEmpty else { return nil }
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw ValidationError("--postgres-\(service) \(url) is not a postgres:// URL")
        }
        return url
    }
}

/// What a backup set holds, written beside the copies as manifest.json.
struct Manifest: Codable {
    struct Store: Codable {
        var service: String
        /// "sqlite" or "postgres".
        var engine: String
        var file: String
        var bytes: Int64
        var sha256: String
        /// Unix milliseconds on the service's clock when its snapshot was taken (at the latest).
        var takenAtMs: Int64
        var clockOffsetMs: Int64
    }

    var format = 1
    var startedAtMs: Int64
    var finishedAtMs: Int64
    var stores: [Store]

    static let name = "manifest.json"

    /// The earliest moment of the set, on the services' clock.
    var earliestMs: Int64 { self.stores.map(\.takenAtMs).min() ?? self.startedAtMs }
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up every store into a new directory while the services run.",
        discussion: """
            Writes intake, qualification, supervision and the gateway's tokens, one after the other, then \
            manifest.json with each copy's size, SHA-256 and moment. A SQLite copy is checked (quick_check) \
            and supervision's audit trail is verified in the copy; the command exits 1 if either fails. \
            Run it on the host of the data directory; PostgreSQL needs pg_dump and psql.
            """
    )

    @Option(
        help: ArgumentHelp(
            "The directory to write the backup set to; it must not exist or be empty.",
            valueName: "directory"
        )
    )
    var to: String

    @Option(
        parsing: .unconditional,
        help: "Seconds to wait between one store and the next, to spread a backup's disk reads on a busy host."
    )
    var pauseSeconds: Double = 0

    @OptionGroup var locations: StoreLocations

    func validate() throws {
        guard (0...3600).contains(self.pauseSeconds) else {
            throw ValidationError("--pause-seconds \(self.pauseSeconds) is not between 0 and 3600")
        }
        try BackupDirectory.requireEmpty(self.to)
    }

    func run() throws {
        AccordBackup.ownerOnly()
        for store in AccordBackup.stores where try self.locations.postgres(store.service) == nil {
            let source = store.sqliteFile(in: self.locations.dataDirectory)
            guard FileManager.default.fileExists(atPath: source) else {
                throw Failed("no \(store.service) database at \(source): is --data-dir the services' data directory?")
            }
        }
        try BackupDirectory.prepareEmpty(self.to)
        do {
            try self.takeEveryStore()
        } catch {
            // No half set: what was written goes, and the directory is empty again (unless the
            // set is whole and kept on purpose).
            if error is Kept { throw error }
            for file in (try? FileManager.default.contentsOfDirectory(atPath: self.to)) ?? [] {
                try? FileManager.default.removeItem(atPath: "\(self.to)/\(file)")
            }
            throw error
        }
    }

    func takeEveryStore() throws {
        let started = ServiceClock.realTime()
        var entries: [Manifest.Store] = []
        var broken: String?
        for (index, store) in AccordBackup.stores.enumerated() {
            if index > 0, self.pauseSeconds > 0 { Thread.sleep(forTimeInterval: self.pauseSeconds) }
            let begun = ServiceClock.realTime()
            let entry: Manifest.Store
            if let url = try self.locations.postgres(store.service) {
                entry = try PostgresBackup.dump(store, url: url, into: self.to)
            } else {
                let source = store.sqliteFile(in: self.locations.dataDirectory)
                let file = "\(store.service).sqlite"
                let copy: SQLiteBackup.Copy
                do {
                    copy = try SQLiteBackup.copy(from: source, to: "\(self.to)/\(file)")
                } catch let failure as SQLiteBackup.Failure {
                    throw Failed(failure.description)
                }
                entry = Manifest.Store(
                    service: store.service,
                    engine: "sqlite",
                    file: file,
                    bytes: copy.bytes,
                    sha256: try Digest.file("\(self.to)/\(file)"),
                    takenAtMs: copy.takenAtMs,
                    clockOffsetMs: copy.clockOffsetMs
                )
            }
            entries.append(entry)
            let seconds = Double(ServiceClock.realTime() - begun) / 1000
            print(
                "\(store.service): \(entry.file), \(Format.bytes(entry.bytes)) in "
                    + "\(String(format: "%.2f", seconds)) s, snapshot at \(Format.moment(entry.takenAtMs))"
            )
            if store.service == "supervision", entry.engine == "sqlite" {
                broken = try Self.verifyAudit("\(self.to)/\(entry.file)")
            }
        }
        let manifest = Manifest(startedAtMs: started, finishedAtMs: ServiceClock.realTime(), stores: entries)
        try BackupDirectory.write(manifest, to: self.to)
        print("backup set: \(self.to) (\(entries.count) stores, manifest.json)")
        // A broken chain is evidence: the set is kept, and the command fails saying so.
        if let broken { throw Kept(description: "\(broken); the backup set is kept as evidence") }
    }

    /// Verifies the chain in supervision's copy; why it is broken, or nil when it is intact.
    static func verifyAudit(_ copy: String) throws -> String? {
        let verdict: AuditTrail.Verdict
        do {
            verdict = try AuditTrail.verify(databaseAt: copy)
        } catch let error as AuditTrail.FileError {
            throw Failed(error.description)
        }
        guard verdict.intact else {
            return
                ("supervision's audit trail in the copy is BROKEN at \(verdict.firstBad ?? "?"): \(verdict.problem ?? "")")
        }
        print("  audit trail: \(verdict.entriesChecked) entries intact, head \(verdict.headHash)")
        return nil
    }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup set into a fresh data directory (or empty PostgreSQL databases).",
        discussion: """
            Checks every copy against manifest.json, puts each in place (a SQLite file under --data-dir, which \
            must not hold that store yet; a PostgreSQL database, which must be empty, with pg_restore), then gives \
            the outbox rows delivered since the set's first snapshot (less --redeliver-margin-seconds) back to \
            their outboxes. Start the services on the restored data afterwards: they send those rows again, \
            and every receiver takes a row twice as once.
            """
    )

    @Option(help: ArgumentHelp("The backup set's directory (as written by create).", valueName: "directory"))
    var from: String

    @Option(
        parsing: .unconditional,
        help:
            "Seconds before the set's first snapshot from which deliveries are made again (for clocks that differ between hosts)."
    )
    var redeliverMarginSeconds: Int = 60

    @OptionGroup var locations: StoreLocations

    func validate() throws {
        guard (0...86_400).contains(self.redeliverMarginSeconds) else {
            throw ValidationError(
                "--redeliver-margin-seconds \(self.redeliverMarginSeconds) is not between 0 and 86400"
            )
        }
    }

    func run() throws {
        AccordBackup.ownerOnly()
        let manifest = try BackupDirectory.read(self.from)
        for entry in manifest.stores {
            let path = "\(self.from)/\(entry.file)"
            guard try Digest.file(path) == entry.sha256 else {
                throw Failed("\(path) does not match its SHA-256 in manifest.json: the copy is damaged")
            }
        }
        let since = manifest.earliestMs - Int64(self.redeliverMarginSeconds) * 1000
        // Check every destination before touching any.
        for entry in manifest.stores {
            let store = try Self.store(entry.service)
            let url = try self.locations.postgres(store.service)
            if url != nil, entry.engine != "postgres" {
                throw Failed(
                    "\(entry.file) is a SQLite copy: restore \(store.service) without --postgres-\(store.service)"
                )
            }
            if url == nil, entry.engine != "sqlite" {
                throw Failed(
                    "\(entry.file) is a pg_dump: restore \(store.service) with --postgres-\(store.service)"
                )
            }
            if let url {
                try PostgresBackup.requireEmpty(url, service: store.service)
            } else {
                let destination = store.sqliteFile(in: self.locations.dataDirectory)
                guard !FileManager.default.fileExists(atPath: destination) else {
                    throw Failed(
                        "\(destination) already exists: restore into a data directory that does not hold \(store.service) yet"
                    )
                }
            }
        }
        print(
            "restoring \(self.from): \(manifest.stores.count) stores, the first snapshot at "
                + "\(Format.moment(manifest.earliestMs)) on the services' clock"
        )
        for entry in manifest.stores {
            let store = try Self.store(entry.service)
            let given: [(mark: DeliveryMark, rows: Int)]
            if let url = try self.locations.postgres(store.service) {
                given = try PostgresBackup.restore(store, from: "\(self.from)/\(entry.file)", into: url, since: since)
            } else {
                do {
                    given = try SQLiteBackup.restore(
                        from: "\(self.from)/\(entry.file)",
                        to: store.sqliteFile(in: self.locations.dataDirectory),
                        redeliver: store.redelivery,
                        since: since
                    )
                } catch let failure as SQLiteBackup.Failure {
                    throw Failed(failure.description)
                }
            }
            let outboxes = given.map { "\($0.rows) rows of \($0.mark) given back" }
            print("\(store.service): restored\(outboxes.isEmpty ? "" : "; " + outboxes.joined(separator: ", "))")
        }
        print("restored \(manifest.stores.count) stores; start the services on them to send the rows given back")
    }

    static func store(_ service: String) throws -> BackedUpStore {
        guard let store = AccordBackup.stores.first(where: { $0.service == service }) else {
            throw Failed("manifest.json names an unknown store \(service)")
        }
        return store
    }
}

/// A whole backup set written and kept, whose command fails all the same (exit 1).
struct Kept: Error, CustomStringConvertible {
    let description: String
}

/// A failure after the arguments were taken: one line, exit 1.
struct Failed: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum BackupDirectory {
    /// Refuses a `path` that exists and is not an empty directory.
    static func requireEmpty(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue, (try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty == true
        else {
            throw ValidationError("--to \(path) exists and is not an empty directory")
        }
    }

    /// Makes `path` (readable by its owner only: a backup holds every record and the tokens'
    /// hashes), or takes it if it is an empty directory.
    static func prepareEmpty(_ path: String) throws {
        try Self.requireEmpty(path)
        try FileManager.default.createDirectory(
            atPath: path,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        _ = chmod(path, 0o700)
    }

    static func write(_ manifest: Manifest, to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(manifest)
        let path = "\(directory)/\(Manifest.name)"
        try data.write(to: URL(fileURLWithPath: path + ".partial"))
        try SQLiteBackup.putInPlace(path + ".partial", at: path)
    }

    static func read(_ directory: String) throws -> Manifest {
        let path = "\(directory)/\(Manifest.name)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failed("no \(Manifest.name) in \(directory): is --from a backup set written by create?")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let manifest: Manifest
        do {
            manifest = try decoder.decode(Manifest.self, from: data)
        } catch {
            throw Failed("\(path) cannot be read: \(error)")
        }
        guard manifest.format == 1 else {
            throw Failed("\(path) is of format \(manifest.format); this build reads format 1")
        }
        return manifest
    }
}

enum Digest {
    /// The SHA-256 of a file, in hex, read a mebibyte at a time.
    static func file(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failed("cannot read \(path)") }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hash.update(data: chunk) }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

enum Format {
    static func moment(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func bytes(_ count: Int64) -> String {
        count >= 1 << 20
            ? String(format: "%.1f MiB", Double(count) / Double(1 << 20))
            : String(format: "%.1f KiB", Double(count) / 1024)
    }
}
