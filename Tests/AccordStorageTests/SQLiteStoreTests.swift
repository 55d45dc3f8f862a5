import AccordStorage
import Foundation
import GRDB
import Logging
import Testing

@Suite("SQLite store: migrations and group commit, on real files")
struct SQLiteStoreTests {
    static let migrations = [
        Migration("v1-items") { db in
            try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        },
        Migration("v2-item-note") { db in
            try db.execute(sql: "ALTER TABLE item ADD COLUMN note TEXT")
        },
    ]

    static func temporaryPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-store-\(UUID().uuidString)"
        )
        return directory.appendingPathComponent("nested/store.sqlite").path
    }

    @Test("migrations run once, in order, and data survives reopening")
    func migrationsAndReopen() async throws {
        let path = Self.temporaryPath()
        do {
            let store = try SQLiteStore(path: path, migrations: Self.migrations, logger: Logger(label: "test"))
            try await store.write { db in try db.execute("INSERT INTO item (name, note) VALUES ('a', 'x')") }
        }
        let reopened = try SQLiteStore(path: path, migrations: Self.migrations, logger: Logger(label: "test"))
        let notes = try await reopened.read { db in try db.values(String.self, "SELECT note FROM item") }
        #expect(notes == ["x"])
        let journal = try await reopened.read { db in try db.value(String.self, "PRAGMA journal_mode") }
        #expect(journal == "wal")
        #expect(try reopened.writerSynchronousMode() == 2, "commits are not synced (synchronous is not FULL)")
        let applied = try await reopened.read { db in
            try db.values(String.self, "SELECT identifier FROM grdb_migrations")
        }
        #expect(applied == ["v1-items", "v2-item-note"])
    }

    @Test("a database written by a newer version (unknown migrations) is refused")
    func newerDatabase() throws {
        let path = Self.temporaryPath()
        _ = try SQLiteStore(
            path: path,
            migrations: Self.migrations + [Migration("v3-later") { _ in }],
            logger: Logger(label: "test")
        )
        #expect(throws: StorageError.self) {
            _ = try SQLiteStore(path: path, migrations: Self.migrations, logger: Logger(label: "test"))
        }
    }

    @Test("concurrent writes share transactions, and every acknowledged write is there")
    func groupCommit() async throws {
        let store = try SQLiteStore(
            path: Self.temporaryPath(),
            migrations: Self.migrations,
            logger: Logger(label: "test")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask {
                    _ = try await store.write { db in
                        try db.execute("INSERT INTO item (name) VALUES (?)", ["item \(index)"])
                    }
                }
            }
            try await group.waitForAll()
        }
        let count = try await store.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM item") }
        #expect(count == 500)
        let writes = await store.writer.committedWrites
        let batches = await store.writer.committedBatches
        #expect(writes == 500)
        #expect(batches < writes, "every write had a transaction of its own: no group commit")
    }

    struct Refused: Error {}

    @Test("a write that throws after changing rows leaves none of its changes")
    func rollbackOfOneWrite() async throws {
        let store = try SQLiteStore(
            path: Self.temporaryPath(),
            migrations: Self.migrations,
            logger: Logger(label: "test")
        )
        await #expect(throws: Refused.self) {
            try await store.write { db in
                try db.execute("INSERT INTO item (name) VALUES ('half')")
                throw Refused()
            }
        }
        let count = try await store.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM item") }
        #expect(count == 0)
    }

    @Test("a failing write among good ones")
    func mixedBatch() async throws {
        let store = try SQLiteStore(
            path: Self.temporaryPath(),
            migrations: Self.migrations,
            logger: Logger(label: "test")
        )
        try await store.write { db in try db.execute("INSERT INTO item (name) VALUES ('taken')") }
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for name in ["one", "taken", "two", "three"] {
                group.addTask {
                    let ok =
                        (try? await store.write { db in
                            try db.execute("INSERT INTO item (name, note) VALUES (?, 'new')", [name])
                        }) != nil
                    return (name, ok)
                }
            }
            return await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes == ["one": true, "taken": false, "two": true, "three": true])
        let names = try await store.read { db in try db.values(String.self, "SELECT name FROM item ORDER BY name") }
        #expect(names == ["one", "taken", "three", "two"])
        let notes = try await store.read { db in
            try db.values(String?.self, "SELECT note FROM item WHERE name = 'taken'")
        }
        #expect(notes == [nil], "the failed write changed the existing row")
    }
}
