import AccordMessages
import AccordRPC

/// Field checks shared by the intake handlers. Each failure is INVALID_ARGUMENT naming the field.
enum IntakeValidation {
    static let maxNameLength = 200
    static let maxReasonLength = 1000

    /// A required single-line text of at most `maxLength` characters, trimmed.
    static func text(_ value: String?, field: String, maxLength: Int = maxNameLength) throws -> String {
        guard let value, !Normalize.trimmed(value).isEmpty else {
            throw RPCError.invalidArgument(field: field, "is required")
        }
        return try self.optionalText(value, field: field, maxLength: maxLength)!
    }

    static func optionalText(_ value: String?, field: String, maxLength: Int = maxNameLength) throws -> String? {
        guard let value else { return nil }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RPCError.invalidArgument(field: field, "must not contain control characters")
        }
        let trimmed = Normalize.trimmed(value)
        guard trimmed.count <= maxLength else {
            throw RPCError.invalidArgument(field: field, "is longer than \(maxLength) characters")
        }
        return trimmed.isEmpty ? nil : trimmed
    }

    static func state(_ value: String?, field: String) throws -> String {
        let text = try self.text(value, field: field, maxLength: 40)
        guard let code = USStates.code(for: text) else {
            throw RPCError.invalidArgument(field: field, "\(text) is not a USPS code of a State, DC or a territory")
        }
        return code
    }

    /// An ORI: nine characters, the agency's state code then seven letters or digits.
    static func ori(_ value: String?, state: String, field: String) throws -> String? {
        guard let text = try self.optionalText(value, field: field, maxLength: 20)?.uppercased() else { return nil }
        let characters = Array(text)
        guard characters.count == 9, characters.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw RPCError.invalidArgument(field: field, "\(text) is not nine letters or digits (e.g. TX2270000)")
        }
        guard text.hasPrefix(state) else {
            throw RPCError.invalidArgument(field: field, "\(text) does not start with the agency's state \(state)")
        }
        return text
    }

    static func known<E: ProtoEnum>(_ value: E?, field: String) throws -> E {
        guard let value else { throw RPCError.invalidArgument(field: field, "is required") }
        guard value.isKnownAndSpecified else {
            throw RPCError.invalidArgument(field: field, "\(value.protoName) is not a known value")
        }
        return value
    }

    static func count(_ value: UInt32?, field: String, range: ClosedRange<UInt32>) throws -> UInt32 {
        guard let value else { throw RPCError.invalidArgument(field: field, "is required") }
        guard range.contains(value) else {
            throw RPCError.invalidArgument(
                field: field,
                "\(value) is not between \(range.lowerBound) and \(range.upperBound)"
            )
        }
        return value
    }

    /// A "YYYY-MM-DD" date no later than `today`.
    static func pastDate(_ value: String?, field: String, today: CalendarDate) throws -> CalendarDate {
        let text = try self.text(value, field: field, maxLength: 10)
        guard let date = CalendarDate(iso: text) else {
            throw RPCError.invalidArgument(field: field, "\(text) is not a date as YYYY-MM-DD")
        }
        guard date <= today else {
            throw RPCError.invalidArgument(field: field, "\(text) is in the future")
        }
        guard date.year >= 2000 else {
            throw RPCError.invalidArgument(field: field, "\(text) is before 2000")
        }
        return date
    }
}
