import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// A session over one PostgreSQL connection inside one transaction, run on a thread that may
/// wait: each statement is sent and its result awaited before the next.
struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    /// The longest a statement's answer is awaited: a statement sent on a connection that no
    /// longer answers (seen once, after the server restarted) fails instead of holding its
    /// thread and its caller for ever, and the connection is closed so that the pool drops it.
    let statementTimeout: TimeAmount

    var dialect: SQLDialect { .postgres }

    /// The longest a turn's writer waits for the writer lock: the writers ahead of it may hold
    /// it for a whole turn each, and one that died holds it until the server sees its
    /// connection close.
    static let lockTimeout: TimeAmount = .seconds(60)

    /// Runs `body` in a transaction opened by `begin` (and holding the advisory lock `lock`, if
    /// any, from its start); commits, or rolls back what it did when it throws.
    static func transaction<T>(
        _ connection: PostgresConnection,
        begin: String,
        lock: Int64? = nil,
        logger: Logger,
        statementTimeout: TimeAmount,
        _ body: (any SQLSession) throws -> T
    ) throws -> T {
        let session = PostgresSession(connection: connection, logger: logger, statementTimeout: statementTimeout)
        try session.execute(begin, [])
        do {
            if let lock {
                _ = try session.run("SELECT pg_advisory_xact_lock(?)", [lock], timeout: Self.lockTimeout)
            }
            let result = try body(session)
            try session.execute("COMMIT", [])
            return result
        } catch {
            if PostgresDatabase.isBroken(error) {
                // Nothing to roll back on a connection that broke (the server rolls back what it
                // had); a statement sent on it now may never be answered.
                connection.close().whenComplete { _ in _ = connection }
            } else {
                _ = try? session.execute("ROLLBACK", [])
            }
            throw error
        }
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try self.run(sql, arguments).metadata.rows ?? 0
    }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        let result = try self.run(sql, arguments)
        guard let first = result.rows.first else { return [] }
        let columns = SQLRow.Columns(first.map(\.columnName))
        return result.rows.map { row in SQLRow(columns: columns, values: row.map(Self.value)) }
    }

    func forEach(_ sql: String, _ arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
        for row in try self.rows(sql, arguments) { try body(row) }
    }

    private func run(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        try self.run(sql, arguments, timeout: self.statementTimeout)
    }

    private func run(_ sql: String, _ arguments: SQLArguments, timeout: TimeAmount) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let int): bindings.append(int)
            case .real(let double): bindings.append(double)
            case .text(let text): bindings.append(text)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings)
        let answer = self.connection.query(query, logger: self.logger)
        // Awaited through a promise of its own that the timer can fail: closing the connection
        // does not always fail a query whose answer was lost.
        let awaited = answer.eventLoop.makePromise(of: PostgresQueryResult.self)
        let settled = Settled()
        let connection = self.connection
        let logger = self.logger
        let deadline = answer.eventLoop.scheduleTask(in: timeout) {
            guard settled.first() else { return }
            logger.warning(
                "No answer to a statement in time; closing its connection",
                metadata: ["statement": "\(sql.prefix(80))", "connection": "\(connection.id)"]
            )
            awaited.fail(PostgresStatementTimeout(milliseconds: timeout.nanoseconds / 1_000_000, statement: sql))
            connection.close().whenComplete { _ in _ = connection }
        }
        answer.whenComplete { result in
            deadline.cancel()
            guard settled.first() else { return }
            awaited.completeWith(result)
        }
        return try awaited.futureResult.wait()
    }

    /// The statement with its `?` placeholders numbered as PostgreSQL wants them (`$1`, `$2`, …;
    /// `?N` becomes `$N`), outside string literals.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var inLiteral = false
        var characters = sql.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            if character == "'" { inLiteral.toggle() }
            guard character == "?", !inLiteral else {
                out.append(character)
                continue
            }
            var digits = ""
            while let digit = pending, digit.isASCII, digit.isNumber {
                digits.append(digit)
                pending = characters.next()
            }
            if digits.isEmpty {
                out.append("$\(next)")
                next += 1
            } else {
                out.append("$\(digits)")
            }
        }
        return out
    }

    /// A cell as the storage classes both engines share.
    static func value(_ cell: PostgresCell) -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2:
            return (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
        case .bool:
            return .integer((try? cell.decode(Bool.self)) == true ? 1 : 0)
        case .float8, .float4:
            return (try? cell.decode(Double.self)).map(SQLValue.real) ?? .null
        case .bytea:
            return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
        case .numeric:
            let text = (try? cell.decode(String.self)) ?? ""
            return Int64(text).map(SQLValue.integer) ?? Double(text).map(SQLValue.real) ?? .text(text)
        default:
            return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
        }
    }
}

/// Whichever of two racing outcomes (an answer and its timeout) comes first settles the race.
final class Settled: Sendable {
    private let done = Mutex(false)

    /// True for the first caller only.
    func first() -> Bool {
        self.done.withLock { done in
            defer { done = true }
            return !done
        }
    }
}

/// A statement whose answer did not come within the session's statement timeout.
struct PostgresStatementTimeout: Error, CustomStringConvertible {
    let milliseconds: Int64
    let statement: String
    var description: String {
        "no answer to a statement within \(self.milliseconds) ms (\(self.statement.prefix(60)))"
    }
}
