import AccordStorage
import Foundation
import GRDB
import Logging
import Testing

@Suite("SQLite online backup and restore, on real files while a writer runs")
struct SQLiteBackupTests {
    static let migrations = [
        Migration("v1-items") { db in
            try db.execute(
                sql: """
                    CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE outbox (
                        rowid INTEGER PRIMARY KEY, delivered_at_ms INTEGER, claimed_until_ms INTEGER
                    );
                    """
            )
        }
    ]

    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("accord-backup-\(UUID().uuidString)").path
    }

    @Test("a backup taken during writes holds every write acknowledged before it, as one snapshot")
    func backupUnderWrites() async throws {
        let folder = Self.folder()
        let store = try SQLiteStore(
            path: "\(folder)/live/items.sqlite",
            migrations: Self.migrations,
            logger: Logger(label: "test")
        )
        let writer = Task {
            var written = 0
            while !Task.isCancelled {
                written += 1
                let name = "item-\(written)"
                try await store.write { db in try db.execute("INSERT INTO item (name) VALUES (?)", [name]) }
            }
            return written
        }
        // Some writes acknowledged before the backup starts.
        while try await store.read({ db in try db.value(Int.self, "SELECT count(*) FROM item") ?? 0 }) < 200 {
            try await Task.sleep(for: .milliseconds(5))
        }
        let acknowledgedBefore = try await store.read { db in try db.value(Int.self, "SELECT max(id) FROM item") ?? 0 }
        let copy = try SQLiteBackup.copy(from: "\(folder)/live/items.sqlite", to: "\(folder)/items.backup")
        writer.cancel()
        _ = try await writer.value
        #expect(copy.bytes > 0 && copy.pages > 0)
        let backup = try DatabaseQueue(path: "\(folder)/items.backup")
        let (count, maximum, journal) = try await backup.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM item")!,
                try Int.fetchOne(db, sql: "SELECT max(id) FROM item")!,
                try String.fetchOne(db, sql: "PRAGMA journal_mode")!
            )
        }
        // Every write acknowledged before is there, and the rows are a prefix: one snapshot.
        #expect(maximum >= acknowledgedBefore)
        #expect(count == maximum, "the copy has gaps: \(count) rows up to id \(maximum)")
        #expect(journal == "delete", "the copy is not a single file")
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/items.backup-wal"))
        // A second backup to the same place is refused, and leaves the first alone.
        #expect(throws: SQLiteBackup.Failure.self) {
            _ = try SQLiteBackup.copy(from: "\(folder)/live/items.sqlite", to: "\(folder)/items.backup")
        }
        #expect(try await backup.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM item") } == count)
    }

    @Test("a restore puts the copy in place and gives back the deliveries made since the moment given")
    func restoreGivesBackDeliveries() async throws {
        let folder = Self.folder()
        let store = try SQLiteStore(
            path: "\(folder)/live/items.sqlite",
            migrations: Self.migrations,
            logger: Logger(label: "test")
        )
        _ = try await store.write { db in
            try db.execute(
                "INSERT INTO outbox (delivered_at_ms, claimed_until_ms) VALUES (1000, NULL), (5000, NULL), (NULL, 9000), (7000, 9000)"
            )
        }
        _ = try SQLiteBackup.copy(from: "\(folder)/live/items.sqlite", to: "\(folder)/items.backup")
        let mark = DeliveryMark(table: "outbox", deliveredColumn: "delivered_at_ms")
        let given = try SQLiteBackup.restore(
            from: "\(folder)/items.backup",
            to: "\(folder)/restored/items.sqlite",
            redeliver: [mark],
            since: 5000
        )
        #expect(given.map(\.rows) == [2])
        let restored = try DatabaseQueue(path: "\(folder)/restored/items.sqlite")
        let rows = try await restored.read { db in
            try Row.fetchAll(db, sql: "SELECT delivered_at_ms, claimed_until_ms FROM outbox ORDER BY rowid").map {
                [$0[0] as Int64?, $0[1] as Int64?]
            }
        }
        #expect(rows == [[1000, nil], [nil, nil], [nil, nil], [nil, nil]])
        // Never over a database already there.
        #expect(throws: SQLiteBackup.Failure.self) {
            _ = try SQLiteBackup.restore(
                from: "\(folder)/items.backup",
                to: "\(folder)/restored/items.sqlite",
                redeliver: [mark],
                since: 0
            )
        }
    }

    @Test("a backup of a database no service has open works too; a missing one is named")
    func closedAndMissing() async throws {
        let folder = Self.folder()
        do {
            let store = try SQLiteStore(
                path: "\(folder)/live/items.sqlite",
                migrations: Self.migrations,
                logger: Logger(label: "test")
            )
            _ = try await store.write { db in try db.execute("INSERT INTO item (name) VALUES ('only')") }
        }
        let copy = try SQLiteBackup.copy(from: "\(folder)/live/items.sqlite", to: "\(folder)/closed.backup")
        #expect(copy.pages > 0)
        let error = #expect(throws: SQLiteBackup.Failure.self) {
            _ = try SQLiteBackup.copy(from: "\(folder)/nowhere.sqlite", to: "\(folder)/x.backup")
        }
        #expect(error?.description.contains("nowhere.sqlite") == true)
    }
}
