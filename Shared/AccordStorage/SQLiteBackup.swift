import Foundation
import GRDB

/// A column that marks an outbox row delivered (and the column of its claim, if it has one).
/// Restoring a backup clears the marks set since the backups of the set began, so those rows are
/// sent again: a store backed up earlier than its sender may lack what they carried, and every
/// receiver takes a row twice as once.
public struct DeliveryMark: Sendable, CustomStringConvertible {
    public let table: String
    public let deliveredColumn: String
    public let claimColumn: String?

    public init(table: String, deliveredColumn: String, claimColumn: String? = "claimed_until_ms") {
        self.table = table
        self.deliveredColumn = deliveredColumn
        self.claimColumn = claimColumn
    }

    public var description: String { "\(self.table).\(self.deliveredColumn)" }

    /// The statements that give the rows delivered at or after `since` back to the outbox, and
    /// free every claim (the process that held them is not the one that will run on the copy).
    /// The same SQL on SQLite and PostgreSQL; the first statement's count is the rows given back.
    public func redeliveryStatements(since: Int64) -> [String] {
        var statements = [
            "UPDATE \(self.table) SET \(self.deliveredColumn) = NULL WHERE \(self.deliveredColumn) >= \(since)"
        ]
        if let claim = self.claimColumn {
            statements.append("UPDATE \(self.table) SET \(claim) = NULL WHERE \(claim) IS NOT NULL")
        }
        return statements
    }
}

/// Online backups of a service's SQLite database, and putting one in place.
///
/// A backup is SQLite's online backup of one read snapshot, taken while the service goes on
/// writing (in WAL mode a reader holds no writer up), never a copy of the files: a file copy can
/// miss the WAL or catch a page half written.
public enum SQLiteBackup {
    /// What one backup holds.
    public struct Copy: Sendable {
        public let bytes: Int64
        public let pages: Int
        /// Unix milliseconds on the service's clock (its simulated offset added) when the snapshot
        /// was taken.
        public let takenAtMs: Int64
        /// The simulated clock's offset recorded in the database (0 on real time).
        public let clockOffsetMs: Int64
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Copies the database at `source` (a service may be writing it) into a new file at
    /// `destination`: one snapshot, in a single file with a rollback journal, checked with
    /// `PRAGMA quick_check`, synced, then moved into place. A file already at `destination` is
    /// refused.
    public static func copy(from source: String, to destination: String) throws -> Copy {
        guard FileManager.default.fileExists(atPath: source) else {
            throw Failure("\(source): no such database")
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw Failure("\(destination) already exists")
        }
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        var sourceConfiguration = Configuration()
        sourceConfiguration.readonly = true
        sourceConfiguration.busyMode = .timeout(10)
        let from: DatabaseQueue
        do {
            from = try DatabaseQueue(path: source, configuration: sourceConfiguration)
        } catch {
            throw Failure("cannot open \(source): \(error)")
        }
        let to = try DatabaseQueue(path: partial)
        var takenAt: Int64 = 0
        var offset: Int64 = 0
        var pages = 0
        do {
            try to.writeWithoutTransaction { destination in
                try from.read { snapshot in
                    // The moment and the clock's offset come from the snapshot being copied.
                    takenAt = Self.realTimeMilliseconds()
                    if try snapshot.tableExists("simulated_clock_move") {
                        offset =
                            try Int64.fetchOne(
                                snapshot,
                                sql: "SELECT offset_ms FROM simulated_clock_move ORDER BY sequence DESC LIMIT 1"
                            ) ?? 0
                    }
                    try snapshot.backup(to: destination) { progress in pages = progress.totalPageCount }
                }
                // One self-contained file: no WAL beside it.
                try destination.execute(sql: "PRAGMA journal_mode = DELETE")
                let check = try String.fetchAll(destination, sql: "PRAGMA quick_check")
                guard check == ["ok"] else {
                    throw Failure("the copy of \(source) fails its check: \(check.prefix(3).joined(separator: "; "))")
                }
            }
            try to.close()
            try from.close()
            try Self.putInPlace(partial, at: destination)
        } catch {
            try? to.close()
            try? FileManager.default.removeItem(atPath: partial)
            if let failure = error as? Failure { throw failure }
            throw Failure("backup of \(source) failed: \(error)")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int64) ?? 0
        return Copy(bytes: bytes ?? 0, pages: pages, takenAtMs: takenAt + offset, clockOffsetMs: offset)
    }

    /// Puts the backup at `backup` in place as the database at `destination` (which must not
    /// exist), through SQLite's backup again, and gives the outbox rows delivered at or after
    /// `redeliverSince` back to their outboxes. Returns how many rows each mark gave back.
    public static func restore(
        from backup: String,
        to destination: String,
        redeliver marks: [DeliveryMark],
        since redeliverSince: Int64
    ) throws -> [(mark: DeliveryMark, rows: Int)] {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw Failure("\(destination) already exists: restore into a data directory without it")
        }
        let directory = (destination as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try Self.copy(from: backup, to: destination)
        let queue = try DatabaseQueue(path: destination)
        defer { try? queue.close() }
        return try queue.write { db in
            try marks.map { mark in
                var given = 0
                for (index, statement) in mark.redeliveryStatements(since: redeliverSince).enumerated() {
                    let changed = try SQLiteSession(db).execute(statement, [])
                    if index == 0 { given = changed }
                }
                return (mark, given)
            }
        }
    }

    static func realTimeMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// Names a finished file: syncs `partial`, renames it to `destination` and syncs the
    /// directory, so that a crash leaves either no file there or the whole of it.
    public static func putInPlace(_ partial: String, at destination: String) throws {
        try Self.sync(path: partial)
        do {
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
        } catch {
            throw Failure("cannot name \(destination): \(error)")
        }
        try Self.sync(path: (destination as NSString).deletingLastPathComponent)
    }

    /// fsync of a file or a directory.
    static func sync(path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw Failure("cannot open \(path) to sync it: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}

/// A service's store as backups see it: its name, where its SQLite file lives under a data
/// directory, and the outbox marks a restore gives back.
public struct BackedUpStore: Sendable {
    public let service: String
    public let redelivery: [DeliveryMark]

    public init(service: String, redelivery: [DeliveryMark]) {
        self.service = service
        self.redelivery = redelivery
    }

    /// The SQLite file under `dataDirectory`, where the service keeps it.
    public func sqliteFile(in dataDirectory: String) -> String {
        "\(dataDirectory)/\(self.service)/\(self.service).sqlite"
    }
}
