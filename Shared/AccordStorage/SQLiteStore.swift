import Foundation
public import GRDB
public import Logging

/// A service's SQLite database: WAL, `synchronous = FULL`, versioned migrations at start-up,
/// reads in parallel, writes through a ``GroupCommitWriter``.
///
/// A write is acknowledged only after the transaction holding it has committed and been synced:
/// a SIGKILL (or a power cut) after the acknowledgement loses nothing.
public final class SQLiteStore: SQLDatabase {
    public let path: String
    let pool: DatabasePool
    public let writer: GroupCommitWriter
    /// The device and inode of the file opened: a write is refused once `path` names no file or
    /// another one (the data directory removed or replaced under the running service), since it
    /// would go to a file nobody can open again.
    let opened: (device: UInt64, inode: UInt64)

    /// Opens (creating if needed) the database at `path` and applies `migrations` in order;
    /// each is applied once, recorded by name.
    public init(path: String, migrations: [Migration], logger: Logger) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // SQLite would say only "unable to open database file".
            if access(directory, W_OK) != 0 {
                let reason = String(cString: strerror(errno))
                throw StorageError("the data directory \(directory) cannot be written: \(reason)", kind: .readOnly)
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        // The pool sets `synchronous = NORMAL` on its writer when it turns WAL on (after
        // prepareDatabase): a commit would then reach the disk only at the next checkpoint.
        // FULL syncs the WAL at every commit, which is what acknowledging a write promises.
        try self.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.name) { db in try migration.apply(db) }
        }
        let applied = try self.pool.read { try migrator.appliedMigrations($0) }
        if try self.pool.read({ try migrator.hasBeenSuperseded($0) }) {
            throw StorageError(
                "\(path) was written by a newer version of this service (it has migrations this one does not know)"
            )
        }
        try migrator.migrate(self.pool)
        let pending = migrations.map(\.name).filter { !applied.contains($0) }
        if !pending.isEmpty {
            logger.info("Applied migrations", metadata: ["migrations": "\(pending)", "database": "\(path)"])
        }
        self.writer = GroupCommitWriter(pool: self.pool)
        guard let opened = Self.identity(of: path) else {
            throw StorageError("\(path) vanished while it was being opened", kind: .readOnly)
        }
        self.opened = opened
    }

    static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Why the database can no longer be written where it was opened, if it cannot.
    func vanished() -> StorageError? {
        guard let now = Self.identity(of: self.path) else {
            return StorageError(
                "storage cannot be written: \(self.path) is gone (its data directory was removed or moved); "
                    + "restart the service on its data",
                kind: .readOnly
            )
        }
        guard now == self.opened else {
            return StorageError(
                "storage cannot be written: \(self.path) was replaced by another file since the service opened it; "
                    + "restart the service on its data",
                kind: .readOnly
            )
        }
        return nil
    }

    /// The writer's `PRAGMA synchronous` (2 = FULL), for checks.
    public func writerSynchronousMode() throws -> Int {
        try self.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public var dialect: SQLDialect { .sqlite }

    /// Reads a consistent snapshot off the writer's path.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do {
            return try await self.pool.read { db in try body(SQLiteSession(db)) }
        } catch let error as DatabaseError {
            throw self.storageError(error) ?? error
        }
    }

    /// Runs `body` in a transaction of its own, blocking the caller: for start-up work only.
    public func writeAtStartUp<T>(_ body: (Database) throws -> T) throws -> T {
        try self.pool.write(body)
    }

    /// Runs `body` in the next group commit; returns once its transaction is durable.
    /// If `body` throws, its changes are rolled back and the other writes of the batch commit.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        if let gone = self.vanished() {
            StorageHealth.shared.writeFailed(gone)
            throw gone
        }
        do {
            let result = try await self.writer.write { db in try body(SQLiteSession(db)) }
            StorageHealth.shared.writeSucceeded()
            return result
        } catch let error as DatabaseError {
            guard let storage = self.storageError(error) else { throw error }
            StorageHealth.shared.writeFailed(storage)
            throw storage
        }
    }

    /// SQLite's refusals that are the storage's trouble, told as such (nil for the others).
    func storageError(_ error: DatabaseError) -> StorageError? {
        switch error.resultCode {
        case .SQLITE_FULL:
            return StorageError(
                "storage is full: \(self.path): \(error.message ?? "database or disk is full")",
                kind: .full
            )
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
            return StorageError(
                "storage cannot be written: \(self.path): \(error.message ?? "\(error.resultCode)")",
                kind: .readOnly
            )
        case .SQLITE_IOERR:
            return StorageError(
                "storage failed to read or write: \(self.path): \(error.message ?? "disk I/O error")",
                kind: .unavailable
            )
        default:
            return nil
        }
    }
}

/// A named, versioned schema change.
public struct Migration: Sendable {
    public let name: String
    public let apply: @Sendable (Database) throws -> Void

    public init(_ name: String, _ apply: @escaping @Sendable (Database) throws -> Void) {
        self.name = name
        self.apply = apply
    }
}

/// A storage failure. `unavailable` means the database cannot be reached now (callers answer
/// UNAVAILABLE and may try again); `full`, that it has no room for the write (RESOURCE_EXHAUSTED);
/// `readOnly`, that it cannot be written at all now (UNAVAILABLE); `conflict`, that a write kept
/// losing races to concurrent ones (ABORTED: try again); anything else is a failure of the
/// storage itself.
public struct StorageError: Error, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case failed
        case unavailable
        /// No room: the disk (or the database's quota) is full.
        case full
        /// The data cannot be written: a read-only file system or database, a directory gone.
        case readOnly = "read_only"
        /// A write kept losing to concurrent ones; trying it again later may succeed.
        case conflict

        /// Whether a write failing so is the storage's trouble rather than the write's.
        public var isStorageTrouble: Bool { self == .unavailable || self == .full || self == .readOnly }
    }

    public let kind: Kind
    public let description: String

    public init(_ description: String, kind: Kind = .failed) {
        self.kind = kind
        self.description = description
    }

    /// `what` (the storage, named) cannot be reached now.
    public static func unavailable(_ what: String, _ cause: any Error) -> StorageError {
        StorageError("\(what) is unavailable: \(cause)", kind: .unavailable)
    }
}
