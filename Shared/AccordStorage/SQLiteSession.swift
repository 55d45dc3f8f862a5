import Foundation
public import GRDB

/// A session over one GRDB connection, inside the transaction (or snapshot) GRDB gives. Every
/// statement is prepared once per connection and cached.
public struct SQLiteSession: SQLSession {
    public let db: Database

    public init(_ db: Database) {
        self.db = db
    }

    public var dialect: SQLDialect { .sqlite }

    public func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try self.db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return self.db.changesCount
    }

    public func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try self.forEach(sql, arguments) { rows.append($0) }
        return rows
    }

    public func forEach(_ sql: String, _ arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
        let statement = try self.db.cachedStatement(sql: sql)
        let columns = SQLRow.Columns(statement.columnNames)
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        while let row = try cursor.next() {
            try body(SQLRow(columns: columns, values: row.databaseValues.map(Self.value)))
        }
    }

    static func arguments(_ arguments: SQLArguments) -> StatementArguments {
        StatementArguments(arguments.values.map(Self.databaseValue))
    }

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: return .null
        case .integer(let int): return int.databaseValue
        case .real(let double): return double.databaseValue
        case .text(let text): return text.databaseValue
        case .blob(let bytes): return Data(bytes).databaseValue
        }
    }

    static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: return .null
        case .int64(let int): return .integer(int)
        case .double(let double): return .real(double)
        case .string(let text): return .text(text)
        case .blob(let data): return .blob(Array(data))
        }
    }
}
