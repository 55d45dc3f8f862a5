/// The WHERE clause of a list: only the filters a caller gave, so that SQLite can use the index
/// of each (a `(? IS NULL OR column = ?)` clause keeps it from using any).
public struct SQLFilter: Sendable {
    public private(set) var clauses: [String] = []
    public private(set) var arguments: SQLArguments = []

    public init() {}

    /// Adds `column = value` when there is a value.
    public mutating func equal(_ column: String, _ value: (any SQLValueConvertible)?) {
        guard let value else { return }
        self.clauses.append("\(column) = ?")
        self.arguments += SQLArguments([value.sqlValue])
    }

    /// Adds a clause of its own with its arguments.
    public mutating func add(_ clause: String, _ arguments: SQLArguments = []) {
        self.clauses.append(clause)
        self.arguments += arguments
    }

    /// The conditions joined with AND ("TRUE" when there is none).
    public var sql: String { self.clauses.isEmpty ? "TRUE" : self.clauses.joined(separator: " AND ") }
}
