public import AccordStorage
public import ArgumentParser

/// Where a service keeps its data: by default a SQLite file under `--data-dir`; with
/// `--postgres URL` a PostgreSQL database that several replicas of the service share.
public struct StorageOptions: ParsableArguments, Sendable {
    @Option(
        help: ArgumentHelp(
            "Keep the data in this PostgreSQL database instead of SQLite (ACCORD_POSTGRES_URL).",
            valueName: "postgres://user@host:port/database"
        )
    )
    public var postgres: String?

    @Option(help: "Connections to PostgreSQL this process holds at most (ACCORD_POSTGRES_POOL). Default 8.")
    public var postgresPool: Int?

    public init() {}

    /// The storage the flags and environment choose; `file` is the SQLite file's path.
    public func resolve(
        file: String,
        environment: [String: String] = ServiceOptions.processEnvironment()
    ) throws -> StorageLocation {
        guard let url = self.postgres ?? environment["ACCORD_POSTGRES_URL"], !url.isEmpty else {
            return .sqlite(path: file)
        }
        let poolText = self.postgresPool.map(String.init) ?? environment["ACCORD_POSTGRES_POOL"] ?? "8"
        guard let pool = Int(poolText), (1...200).contains(pool) else {
            throw ValidationError("postgres pool \(poolText) is not between 1 and 200")
        }
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw ValidationError("--postgres \(url) is not a postgres:// URL")
        }
        return .postgres(PostgresDatabase.Configuration(url: url, poolSize: pool))
    }
}
