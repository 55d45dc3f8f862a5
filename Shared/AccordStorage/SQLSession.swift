/// One row of a result: its values by position or by column name.
public struct SQLRow: Sendable {
    /// The result's column names, shared by its rows.
    public final class Columns: Sendable {
        public let names: [String]
        let index: [String: Int]

        public init(_ names: [String]) {
            self.names = names
            var index: [String: Int] = [:]
            for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
            self.index = index
        }
    }

    public let columns: Columns
    public let values: [SQLValue]

    public init(columns: Columns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript<T: SQLDecodable>(_ position: Int) -> T { T.decode(self.values[position]) }

    /// The value of the first column of that name. A name the query did not select traps.
    public subscript<T: SQLDecodable>(_ column: String) -> T {
        guard let position = self.columns.index[column] else {
            preconditionFailure("no column \(column) in \(self.columns.names)")
        }
        return T.decode(self.values[position])
    }

    /// Every column with its value, in the query's order.
    public var pairs: Zip2Sequence<[String], [SQLValue]> { zip(self.columns.names, self.values) }
}

/// The SQL the stores write runs on both engines: `?` placeholders (and `?1` for a repeated
/// one), `RETURNING`, `ON CONFLICT`, `IS NOT DISTINCT FROM`. A session rewrites what its engine
/// needs (PostgreSQL's `$n`).
public enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// One transaction's (or one snapshot's) statements, run in order. Synchronous: a store's
/// operation is a unit of work that holds its transaction from the first statement to the last.
public protocol SQLSession {
    var dialect: SQLDialect { get }
    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int
    /// Every row a query selects.
    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow]
    /// Calls `body` with each row a query selects, without holding them all.
    func forEach(_ sql: String, _ arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws
}

extension SQLSession {
    @discardableResult
    public func execute(_ sql: String) throws -> Int { try self.execute(sql, []) }

    public func rows(_ sql: String) throws -> [SQLRow] { try self.rows(sql, []) }

    /// The first row a query selects.
    public func row(_ sql: String, _ arguments: SQLArguments = []) throws -> SQLRow? {
        try self.rows(sql, arguments).first
    }

    /// The first column of the first row, nil when there is no row (or its value is NULL).
    public func value<T: SQLDecodable>(_ type: T.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> T? {
        guard let row = try self.row(sql, arguments), let first = row.values.first, !first.isNull else { return nil }
        return T.decode(first)
    }

    /// The first column of every row.
    public func values<T: SQLDecodable>(_ type: T.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> [T] {
        try self.rows(sql, arguments).map { T.decode($0.values[0]) }
    }

    /// Inserts a row and returns its row id (`RETURNING rowid`).
    public func insert(_ sql: String, _ arguments: SQLArguments) throws -> Int64 {
        guard let rowid = try self.value(Int64.self, sql + " RETURNING rowid", arguments) else {
            throw StorageError("the insert returned no row id: \(sql)")
        }
        return rowid
    }
}

/// A service's database: snapshots to read, transactions to write, each durable before the
/// call returns. SQLite (``SQLiteStore``) and PostgreSQL implement it.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` over a consistent snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Runs `body` in a transaction; returns once it is durable. If `body` throws, nothing of it
    /// is kept.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
}
