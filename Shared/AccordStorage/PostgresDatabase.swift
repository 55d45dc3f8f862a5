import Foundation
public import Logging
public import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// A service's database on PostgreSQL: a pool of connections, each transaction on one of them.
///
/// A store's operation is a synchronous unit of work (``SQLSession``), so a transaction runs on a
/// thread of the database's own pool and waits there for each statement, never on an event loop
/// or in the cooperative pool. Writes commit with `synchronous_commit` on before the call
/// returns; concurrent commits share the server's WAL flushes (its own group commit).
///
/// Writers of different replicas stay correct together in one of two ways (``Writers``), both
/// under READ COMMITTED. `concurrent` writers rely on the schema's constraints (uniqueness,
/// idempotency keys, one open request) and on row locks (``SQLSession/lockRow(_:_:)``) taken
/// before a row is read to be changed; a write that loses a uniqueness race or a deadlock is run
/// again from the start (its body is a function of what it reads), so it then sees the winner's
/// rows and answers as the rules say. `oneAtATime` writers take a lock of the database first, so
/// that each sees everything committed before it — for a store whose every write appends to one
/// chain (supervision's audit trail).
public final class PostgresDatabase: SQLDatabase {
    public struct Configuration: Sendable {
        /// `postgres://user[:password]@host[:port]/database`.
        public var url: String
        /// Connections (and threads) this process holds at most.
        public var poolSize: Int
        /// How often a write lost to another writer is tried again.
        public var maxAttempts: Int
        public var writers: Writers
        /// The longest one statement's answer is awaited before its connection is given up.
        public var statementTimeout: TimeAmount
        /// The longest a new connection is awaited, in seconds.
        public var connectSeconds: Int64 = 3

        public init(
            url: String,
            poolSize: Int = 8,
            maxAttempts: Int = 16,
            writers: Writers = .concurrent,
            statementTimeout: TimeAmount = .seconds(5)
        ) {
            self.url = url
            self.poolSize = poolSize
            self.maxAttempts = maxAttempts
            self.writers = writers
            self.statementTimeout = statementTimeout
        }
    }

    /// How writers of several replicas are kept from each other's toes.
    public enum Writers: Sendable {
        case concurrent
        case oneAtATime
    }

    /// The lock `oneAtATime` writers take, and migrations.
    static let writerLock: Int64 = 0x4163_636f_7264_5731

    public let configuration: Configuration
    let connectionConfiguration: PostgresConnection.Configuration
    let pool: ConnectionPool
    let threads: NIOThreadPool
    let logger: Logger
    /// The group commit of `oneAtATime` writers, made at their first write.
    private let turns = Mutex<PostgresTurnWriter?>(nil)

    public var dialect: SQLDialect { .postgres }

    /// Connects (checking the URL and the server at once) and applies `migrations`.
    public init(_ configuration: Configuration, migrations: [PostgresMigration], logger: Logger) async throws {
        self.configuration = configuration
        self.connectionConfiguration = try Self.parse(configuration.url)
        self.logger = logger
        self.threads = NIOThreadPool(numberOfThreads: configuration.poolSize)
        self.threads.start()
        let connectionConfiguration = self.connectionConfiguration
        let connectSeconds = configuration.connectSeconds
        self.pool = ConnectionPool(size: configuration.poolSize) {
            try await Self.connect(connectionConfiguration, withinSeconds: connectSeconds, logger: logger)
        }
        do {
            try await PostgresMigrator(migrations, logger: logger, where: configuration.url).migrate(self)
        } catch {
            await self.close()
            throw error
        }
    }

    /// Closes every connection and stops the threads.
    public func close() async {
        await self.pool.close()
        try? await self.threads.shutdownGracefully()
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await self.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// Writes `body` in a transaction; a write that fails for want of storage (unreachable, full,
    /// read-only) marks the process degraded for writes until one succeeds (``StorageHealth``).
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do {
            let result = try await self.writeRetryingRaces(body)
            StorageHealth.shared.writeSucceeded()
            return result
        } catch let error as StorageError where error.kind.isStorageTrouble {
            StorageHealth.shared.writeFailed(error)
            throw error
        }
    }

    private func writeRetryingRaces<T: Sendable>(
        _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        if self.configuration.writers == .oneAtATime { return try await self.writeOneAtATime(body) }
        var attempt = 1
        while true {
            do {
                return try await self.transaction("BEGIN ISOLATION LEVEL READ COMMITTED", body)
            } catch let error as PSQLError where Self.isRace(error) {
                guard attempt < self.configuration.maxAttempts else {
                    throw StorageError(Self.describe(error), kind: .conflict)
                }
                // Backoff with jitter, growing to about 100 ms, so that racing writers spread out.
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...min(100, 1 << min(attempt, 7)))))
            }
        }
    }

    /// A write after every other one: it joins the next turn of this process's writers, which
    /// takes the writer lock first, so that every statement after it sees what the writers
    /// before committed.
    func writeOneAtATime<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        let turns = self.turns.withLock { turns in
            if let turns { return turns }
            let made = PostgresTurnWriter(database: self)
            turns = made
            return made
        }
        return try await turns.write(body)
    }

    /// One turn of the `oneAtATime` writers: READ COMMITTED, the writer lock, then `body`.
    func writeTurn<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await self.transaction("BEGIN ISOLATION LEVEL READ COMMITTED", lock: Self.writerLock, body)
    }

    /// A new connection, or an error once `seconds` have passed without one. A server that is
    /// shutting down may take the connection and never answer its start-up (or leave the TCP
    /// handshake unanswered): without a bound, every caller would wait until the server is gone.
    static func connect(
        _ configuration: PostgresConnection.Configuration,
        withinSeconds seconds: Int64,
        logger: Logger
    ) async throws -> PostgresConnection {
        var configuration = configuration
        configuration.options.connectTimeout = .seconds(seconds)
        let attempt = configuration
        let settled = Settled()
        return try await withThrowingTaskGroup(of: ConnectOutcome.self) { group in
            group.addTask {
                let connection = try await PostgresConnection.connect(
                    configuration: attempt,
                    id: Int.random(in: 0..<Int.max),
                    logger: logger
                )
                guard settled.first() else {
                    // Too late: the caller was told there was no connection.
                    try? await connection.close()
                    return .late
                }
                return .connected(connection)
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return settled.first() ? .timedOut : .late
            }
            defer { group.cancelAll() }
            while let outcome = try await group.next() {
                switch outcome {
                case .connected(let connection): return connection
                case .timedOut: throw ConnectTimeout(seconds: seconds)
                case .late: continue
                }
            }
            throw ConnectTimeout(seconds: seconds)
        }
    }

    /// How one side of the race between a connection attempt and its timeout ended.
    private enum ConnectOutcome: Sendable {
        case connected(PostgresConnection)
        case timedOut
        /// The other side settled the race first.
        case late
    }

    /// A unique violation, a deadlock (or a serialization failure): another transaction got there first.
    static func isRace(_ error: PSQLError) -> Bool {
        ["40001", "40P01", "23505"].contains(error.serverInfo?[.sqlState] ?? "")
    }

    /// Runs `body` between `begin` and COMMIT on a pooled connection, on one of this database's
    /// threads; a connection that failed is dropped from the pool.
    private func transaction<T: Sendable>(
        _ begin: String,
        lock: Int64? = nil,
        _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        let connection: PostgresConnection
        do {
            connection = try await self.pool.acquire()
        } catch let error as PSQLError where !Self.isConnectionFailure(error) {
            // Reached, but refused: no such database, authentication failed, and the like.
            throw StorageError(Self.describe(error))
        } catch {
            throw StorageError(
                "PostgreSQL at \(self.connectionConfiguration.describedHost) is unavailable: \(Self.cause(error))",
                kind: .unavailable
            )
        }
        let logger = self.logger
        let timeout = self.configuration.statementTimeout
        do {
            let result = try await self.threads.runIfActive {
                try PostgresSession.transaction(
                    connection,
                    begin: begin,
                    lock: lock,
                    logger: logger,
                    statementTimeout: timeout,
                    body
                )
            }
            await self.pool.release(connection)
            return result
        } catch {
            await self.pool.release(connection)
            if Self.isBroken(error) {
                // The server went away or is going (or the connection broke under a statement):
                // its other connections are suspect too.
                await self.pool.dropIdle()
                throw StorageError(
                    "PostgreSQL at \(self.connectionConfiguration.describedHost) is unavailable: \(Self.cause(error))",
                    kind: .unavailable
                )
            }
            if let failure = error as? PSQLError, Self.isRace(failure) { throw failure }
            throw Self.storageError(error)
        }
    }

    /// What a write's caller is told of `error`: the server's refusal as a storage error (a lost
    /// race as a conflict), anything else (the store's own rules) as it is.
    static func storageError(_ error: any Error) -> any Error {
        guard let failure = error as? PSQLError else { return error }
        switch failure.serverInfo?[.sqlState] ?? "" {
        case "53100":  // disk_full
            return StorageError("storage is full: \(Self.describe(failure))", kind: .full)
        case "25006":  // read_only_sql_transaction: a standby, or default_transaction_read_only
            return StorageError("storage cannot be written: \(Self.describe(failure))", kind: .readOnly)
        case "53000", "53200", "53300":  // insufficient resources, out of memory, too many connections
            return StorageError("storage is out of resources: \(Self.describe(failure))", kind: .unavailable)
        default:
            return StorageError(Self.describe(failure), kind: Self.isRace(failure) ? .conflict : .failed)
        }
    }

    /// The server's message, its SQLSTATE and the statement, for logs and start-up errors.
    static func describe(_ error: PSQLError) -> String {
        let info = error.serverInfo
        let message = info?[.message] ?? Self.cause(error)
        let state = info?[.sqlState] ?? "-"
        let statement = error.query.map { " in: \($0.sql)" } ?? ""
        return "PostgreSQL: \(message) (SQLSTATE \(state))\(statement)"
    }

    /// Why a connection failed, in words: the server's message, or the network's error.
    static func cause(_ error: any Error) -> String {
        guard let failure = error as? PSQLError else { return "\(error)" }
        if let message = failure.serverInfo?[.message] { return message }
        if let underlying = failure.underlying { return "\(underlying)" }
        return "\(failure.code)"
    }

    /// Whether `error` broke the connection it came from (so that it is closed, not reused).
    static func isBroken(_ error: any Error) -> Bool {
        if let failure = error as? PSQLError { return Self.isConnectionFailure(failure) }
        return error is ChannelError || error is IOError || error is PostgresStatementTimeout
    }

    /// The server cannot be reached now (as opposed to refusing what was asked).
    static func isConnectionFailure(_ error: PSQLError) -> Bool {
        [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown].contains(error.code)
            || (error.serverInfo?[.sqlState]).map { $0.hasPrefix("08") || $0.hasPrefix("57P") } == true
    }

    /// The connection settings of a `postgres://` URL, or a clear error naming what is wrong.
    static func parse(_ url: String) throws -> PostgresConnection.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? "") else {
            throw StorageError("\(url) is not a PostgreSQL URL (postgres://user@host:port/database)")
        }
        guard let host = parts.host, !host.isEmpty else { throw StorageError("\(url) names no host") }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        guard !database.isEmpty else { throw StorageError("\(url) names no database") }
        return PostgresConnection.Configuration(
            host: host,
            port: parts.port ?? 5432,
            username: parts.user ?? "postgres",
            password: parts.password,
            database: database,
            tls: .disable
        )
    }
}

/// No connection to the server within the time allowed.
struct ConnectTimeout: Error, CustomStringConvertible {
    let seconds: Int64
    var description: String { "no connection within \(self.seconds) s" }
}

extension PostgresConnection.Configuration {
    var describedHost: String { "\(self.host ?? "?"):\(self.port ?? 5432)" }
}

extension PostgresDatabase {
    /// Creates the database `name` on the server of `url` (outside a transaction, as PostgreSQL
    /// requires), unless it exists; returns the URL of the new database.
    public static func createDatabase(
        named name: String,
        onServerOf url: String,
        logger: Logger
    ) async throws
        -> String
    {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw StorageError("\(name) is not a plain database name")
        }
        var configuration = try Self.parse(url)
        configuration.database = "postgres"
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        defer { Task { try? await connection.close() } }
        let exists =
            try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT 1 FROM pg_database WHERE datname = '\(name)'"),
                logger: logger
            ).get().rows.isEmpty == false
        if !exists {
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger).get()
        }
        guard var parts = URLComponents(string: url) else { throw StorageError("\(url) is not a URL") }
        parts.path = "/\(name)"
        return parts.string ?? url
    }
}
