import Logging
import NIOCore
import PostgresNIO

/// A session over one PostgreSQL connection inside one transaction, run on a thread that may
/// wait: each statement is sent and its result awaited before the next.
struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger

    var dialect: SQLDialect { .postgres }

    /// Runs `body` in a transaction opened by `begin`; commits, or rolls back what it did when
    /// it throws.
    static func transaction<T>(
        _ connection: PostgresConnection,
        begin: String,
        logger: Logger,
        _ body: (any SQLSession) throws -> T
    ) throws -> T {
        let session = PostgresSession(connection: connection, logger: logger)
        try session.execute(begin, [])
        do {
            let result = try body(session)
            try session.execute("COMMIT", [])
            return result
        } catch {
            _ = try? session.execute("ROLLBACK", [])
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
        return try self.connection.query(query, logger: self.logger).wait()
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
