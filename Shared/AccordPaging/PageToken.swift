public import AccordMessages
import AccordRPC
public import GRDB

/// A list's position: the last row id returned, tied to the query's filters by a fingerprint, so
/// that a token from another query (or a made-up one) is refused instead of paging somewhere odd.
public struct PageToken: Sendable {
    public let afterRowid: Int64

    /// Pages hold 100 items unless asked otherwise, and at most 1,000.
    public static let defaultPageSize: UInt32 = 100
    public static let maxPageSize: UInt32 = 1000

    /// The page size asked for, within bounds.
    public static func size(_ page: PageRequest?) throws -> Int {
        let size = page?.pageSize ?? 0
        guard size <= Self.maxPageSize else {
            throw RPCError.invalidArgument(field: "page.page_size", "must be at most \(Self.maxPageSize)")
        }
        return Int(size == 0 ? Self.defaultPageSize : size)
    }

    /// The position in `page`, or the start; `filters` must be the same as when it was made.
    public static func decode(_ page: PageRequest?, filters: [String]) throws -> PageToken {
        guard let token = page?.pageToken, !token.isEmpty else { return PageToken(afterRowid: 0) }
        let parts = token.split(separator: ".")
        guard parts.count == 2, let rowid = Int64(parts[0], radix: 36), rowid > 0,
            parts[1] == Self.fingerprint(filters, rowid)
        else {
            throw RPCError.invalidArgument(field: "page.page_token", "is not a token this list gave for these filters")
        }
        return PageToken(afterRowid: rowid)
    }

    /// Splits the `size + 1` rows a list fetched into the page and the token of the next one
    /// (absent on the last page). The rows carry a `rowid` column.
    public static func split(_ rows: [Row], size: Int, filters: [String]) -> (rows: ArraySlice<Row>, page: PageResponse)
    {
        let page = rows.prefix(size)
        guard rows.count > size, let last = page.last else { return (page, PageResponse()) }
        return (page, PageResponse(nextPageToken: self.encode(afterRowid: last["rowid"], filters: filters)))
    }

    public static func encode(afterRowid rowid: Int64, filters: [String]) -> String {
        "\(String(rowid, radix: 36)).\(self.fingerprint(filters, rowid))"
    }

    /// FNV-1a over the filters and the position: not a secret, a check against mistakes.
    private static func fingerprint(_ filters: [String], _ rowid: Int64) -> Substring {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (filters.joined(separator: "\u{1F}") + "\u{1E}\(rowid)").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Substring(String(hash, radix: 36))
    }
}

/// The WHERE clause of a list: only the filters a caller gave, so that SQLite can use the index
/// of each (a `(? IS NULL OR column = ?)` clause keeps it from using any).
public struct SQLFilter: Sendable {
    public private(set) var clauses: [String] = []
    public private(set) var arguments: StatementArguments = []

    public init() {}

    /// Adds `column = value` when there is a value.
    public mutating func equal(_ column: String, _ value: (any DatabaseValueConvertible & Sendable)?) {
        guard let value else { return }
        self.clauses.append("\(column) = ?")
        self.arguments += [value]
    }

    /// Adds a clause of its own with its arguments.
    public mutating func add(_ clause: String, _ arguments: StatementArguments = []) {
        self.clauses.append(clause)
        self.arguments += arguments
    }

    /// The conditions joined with AND ("1" when there is none).
    public var sql: String { self.clauses.isEmpty ? "1" : self.clauses.joined(separator: " AND ") }
}
