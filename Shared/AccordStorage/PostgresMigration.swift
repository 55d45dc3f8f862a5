public import Logging

/// A named, versioned schema change of a PostgreSQL database: SQL statements run in one
/// transaction, recorded by name in `accord_migrations`. A released migration is never edited.
public struct PostgresMigration: Sendable {
    public let name: String
    public let statements: [String]

    public init(_ name: String, _ statements: [String]) {
        self.name = name
        self.statements = statements
    }
}

/// Applies a service's migrations at start-up, once each and in order, under a lock so that
/// replicas starting together do it once; refuses a database that has migrations it does not know
/// (written by a newer version).
struct PostgresMigrator {
    let migrations: [PostgresMigration]
    let logger: Logger
    let location: String

    init(_ migrations: [PostgresMigration], logger: Logger, where location: String) {
        self.migrations = migrations
        self.logger = logger
        self.location = location
    }

    func migrate(_ database: PostgresDatabase) async throws {
        let migrations = self.migrations
        let location = self.location
        // One writer at a time and READ COMMITTED: a replica that waited for another's migration
        // sees what it committed.
        let applied: [String] = try await database.writeOneAtATime { session in
            try session.execute(
                "CREATE TABLE IF NOT EXISTS accord_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            let known = Set(try session.values(String.self, "SELECT name FROM accord_migrations"))
            let unknown = known.subtracting(migrations.map(\.name))
            guard unknown.isEmpty else {
                throw StorageError(
                    "\(location) was written by a newer version of this service (it has migrations this one does not know: \(unknown.sorted().joined(separator: ", ")))"
                )
            }
            var applied: [String] = []
            for migration in migrations where !known.contains(migration.name) {
                for statement in migration.statements { try session.execute(statement) }
                try session.execute("INSERT INTO accord_migrations (name) VALUES (?)", [migration.name])
                applied.append(migration.name)
            }
            return applied
        }
        if !applied.isEmpty {
            self.logger.info("Applied migrations", metadata: ["migrations": "\(applied)", "database": "\(location)"])
        }
    }
}
