/// A value as both engines store it: the storage classes of SQLite, which PostgreSQL's integer,
/// floating-point, text and bytea columns map onto.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var isNull: Bool { self == .null }
}

/// A Swift value that binds as a statement argument.
public protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
}

/// A Swift value that a column's value decodes to. Decoding a value of the wrong class is a
/// programming error (the schema and the code disagree) and traps, naming both.
public protocol SQLDecodable {
    static func decode(_ value: SQLValue) -> Self
}

extension SQLValue: SQLValueConvertible, SQLDecodable {
    public var sqlValue: SQLValue { self }
    public static func decode(_ value: SQLValue) -> SQLValue { value }
}

extension Int64: SQLValueConvertible, SQLDecodable {
    public var sqlValue: SQLValue { .integer(self) }
    public static func decode(_ value: SQLValue) -> Int64 {
        switch value {
        case .integer(let int): return int
        case .real(let double): return Int64(double)
        case .text(let text) where Int64(text) != nil: return Int64(text)!
        default: preconditionFailure("\(value) is not an integer")
        }
    }
}

extension Int: SQLValueConvertible, SQLDecodable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public static func decode(_ value: SQLValue) -> Int { Int(Int64.decode(value)) }
}

extension Int32: SQLValueConvertible, SQLDecodable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public static func decode(_ value: SQLValue) -> Int32 { Int32(clamping: Int64.decode(value)) }
}

extension UInt32: SQLValueConvertible, SQLDecodable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public static func decode(_ value: SQLValue) -> UInt32 { UInt32(clamping: Int64.decode(value)) }
}

extension Bool: SQLValueConvertible, SQLDecodable {
    /// Stored as 0 or 1 on both engines.
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public static func decode(_ value: SQLValue) -> Bool { Int64.decode(value) != 0 }
}

extension Double: SQLValueConvertible, SQLDecodable {
    public var sqlValue: SQLValue { .real(self) }
    public static func decode(_ value: SQLValue) -> Double {
        switch value {
        case .real(let double): return double
        case .integer(let int): return Double(int)
        default: preconditionFailure("\(value) is not a number")
        }
    }
}

extension String: SQLValueConvertible, SQLDecodable {
    public var sqlValue: SQLValue { .text(self) }
    public static func decode(_ value: SQLValue) -> String {
        switch value {
        case .text(let text): return text
        case .integer(let int): return String(int)
        default: preconditionFailure("\(value) is not text")
        }
    }
}

extension [UInt8]: SQLValueConvertible, SQLDecodable {
    public var sqlValue: SQLValue { .blob(self) }
    public static func decode(_ value: SQLValue) -> [UInt8] {
        guard case .blob(let bytes) = value else { preconditionFailure("\(value) is not a blob") }
        return bytes
    }
}

extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public static func decode(_ value: SQLValue) -> Wrapped? { value.isNull ? nil : Wrapped.decode(value) }
}

/// A statement's arguments, bound in order to its `?` placeholders.
public struct SQLArguments: Sendable, ExpressibleByArrayLiteral {
    public private(set) var values: [SQLValue]

    public init(_ values: [SQLValue] = []) {
        self.values = values
    }

    public init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        self.values = elements.map { $0?.sqlValue ?? .null }
    }

    public init<S: Sequence>(_ elements: S) where S.Element: SQLValueConvertible {
        self.values = elements.map(\.sqlValue)
    }

    /// `?, ?, …`: the placeholders of an IN list of `count` values.
    public static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    public static func + (lhs: SQLArguments, rhs: SQLArguments) -> SQLArguments {
        SQLArguments(lhs.values + rhs.values)
    }

    public static func += (lhs: inout SQLArguments, rhs: SQLArguments) {
        lhs.values += rhs.values
    }
}
