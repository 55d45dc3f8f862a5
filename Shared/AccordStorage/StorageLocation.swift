public import Logging

/// Where a service keeps its data: a SQLite file (the embedded default), or a PostgreSQL
/// database that several replicas share.
public enum StorageLocation: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresDatabase.Configuration)

    /// A service's schema history, one per engine.
    public struct Migrations: Sendable {
        public let sqlite: [Migration]
        public let postgres: [PostgresMigration]

        public init(sqlite: [Migration], postgres: [PostgresMigration]) {
            self.sqlite = sqlite
            self.postgres = postgres
        }
    }

    /// Opens the database and brings its schema up to date.
    public func open(_ migrations: Migrations, logger: Logger) async throws -> any SQLDatabase {
        switch self {
        case .sqlite(let path):
            return try SQLiteStore(path: path, migrations: migrations.sqlite, logger: logger)
        case .postgres(let configuration):
            return try await PostgresDatabase(configuration, migrations: migrations.postgres, logger: logger)
        }
    }

    /// The same storage for a store whose every write appends to one chain: on PostgreSQL its
    /// replicas' writers take turns (SQLite has one writer anyway).
    public var oneWriterAtATime: StorageLocation {
        guard case .postgres(var configuration) = self else { return self }
        configuration.writers = .oneAtATime
        return .postgres(configuration)
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "SQLite \(path)"
        case .postgres(let configuration): return "PostgreSQL \(configuration.url)"
        }
    }
}
