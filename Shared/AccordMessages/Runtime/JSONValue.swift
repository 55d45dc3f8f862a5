/// A JSON value, as messages render themselves for people and scripts (the CLI's `--json`).
/// Fields keep their schema names (snake_case) and order; absent fields are left out; enums are
/// their schema names; int64 values are JSON numbers; bytes are base64.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number written as it is (integers stay exact).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The value of a key of an object, nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    /// Text for a table cell: strings as they are, numbers and booleans as written, lists
    /// joined with ", ", objects in JSON.
    public var plain: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "yes" : "no"
        case .number(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.plain).joined(separator: ", ")
        case .object: self.serialized()
        }
    }

    /// JSON text; `indent` > 0 pretty-prints.
    public func serialized(indent: Int = 0) -> String {
        var out = ""
        self.write(to: &out, indent: indent, level: 0)
        return out
    }

    private func write(to out: inout String, indent: Int, level: Int) {
        let newline = indent > 0 ? "\n" : ""
        let pad = { (n: Int) in String(repeating: " ", count: indent * n) }
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let value): out += value
        case .string(let value): Self.quote(value, into: &out)
        case .array(let values):
            guard !values.isEmpty else {
                out += "[]"
                return
            }
            out += "[" + newline
            for (index, value) in values.enumerated() {
                out += pad(level + 1)
                value.write(to: &out, indent: indent, level: level + 1)
                out += (index < values.count - 1 ? "," : "") + newline
            }
            out += pad(level) + "]"
        case .object(let fields):
            guard !fields.isEmpty else {
                out += "{}"
                return
            }
            out += "{" + newline
            for (index, (key, value)) in fields.enumerated() {
                out += pad(level + 1)
                Self.quote(key, into: &out)
                out += indent > 0 ? ": " : ":"
                value.write(to: &out, indent: indent, level: level + 1)
                out += (index < fields.count - 1 ? "," : "") + newline
            }
            out += pad(level) + "}"
        }
    }

    private static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    // The generated `json` of each message builds on these.
    public static func of<I: BinaryInteger>(_ value: I) -> JSONValue { .number(String(value)) }
    public static func of(_ value: Double) -> JSONValue { value.isFinite ? .number(String(value)) : .null }
    public static func of(_ value: Float) -> JSONValue { .of(Double(value)) }
    public static func of(_ value: Bool) -> JSONValue { .bool(value) }
    public static func of(_ value: String) -> JSONValue { .string(value) }
    public static func of(_ value: [UInt8]) -> JSONValue { .string(Self.base64(value)) }
    public static func of<E: ProtoEnum>(_ value: E) -> JSONValue { .string(value.protoName) }
    public static func of<M: JSONRepresentable>(_ value: M) -> JSONValue { value.json }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(0) { $0 | (UInt32($1.element) << (16 - 8 * UInt32($1.offset))) }
            for position in 0..<4 {
                out.append(
                    position <= chunk.count
                        ? table[Int((value >> (18 - 6 * UInt32(position))) & 0x3f)] : UInt8(ascii: "=")
                )
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A message that renders itself as JSON (every generated message does).
public protocol JSONRepresentable {
    var json: JSONValue { get }
}
