import AccordCalendar
import AccordMessages
import ArgumentParser
import Foundation

/// How results are shown: tables and "key: value" lines for people, JSON for scripts.
enum Output {
    /// One record: every field present, nested records as JSON.
    static func record(_ message: some JSONRepresentable, json: Bool) {
        if json {
            print(message.json.serialized(indent: 2))
            return
        }
        guard case .object(let fields) = message.json else { return }
        let width = fields.map(\.0.count).max() ?? 0
        for (key, value) in fields {
            let text: String
            switch value {
            case .object,
                .array(_) where Self.isNested(value):
                text = value.serialized()
            default: text = Self.cell(key, value)
            }
            print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + text)
        }
    }

    private static func isNested(_ value: JSONValue) -> Bool {
        if case .array(let items) = value { return items.contains { if case .object = $0 { true } else { false } } }
        return false
    }

    /// A value for people: instants (fields ending in `_ms`) as UTC times, enums short.
    static func cell(_ key: String, _ value: JSONValue) -> String {
        if key.hasSuffix("_ms") && !key.hasSuffix("age_ms"), case .number(let text) = value,
            let milliseconds = Double(text)
        {
            let formatter = ISO8601DateFormatter()
            return formatter.string(from: Date(timeIntervalSince1970: milliseconds / 1000))
        }
        return Self.short(value)
    }

    /// Enum names without their type prefix (MODEL_JEM reads JEM).
    static func short(_ value: JSONValue) -> String {
        switch value {
        case .string(let text):
            for prefix in Self.enumPrefixes where text.hasPrefix(prefix) { return String(text.dropFirst(prefix.count)) }
            return text
        case .array(let items): return items.map(Self.short).joined(separator: ", ")
        default: return value.plain
        }
    }

    static let enumPrefixes = [
        "MODEL_", "FEDERAL_PARTNER_", "REQUEST_STATUS_", "AGENCY_TYPE_", "AGREEMENT_STATUS_", "AUTHORIZATION_STATUS_",
        "DELEGATED_FUNCTION_", "ACTION_PLACE_", "ACTION_DECISION_", "REVIEW_STATUS_", "COMPLAINT_STATUS_",
        "INSPECTION_STATUS_", "OFFICER_STATUS_", "BACKGROUND_RESULT_", "TRAINING_STATUS_", "ENGAGEMENT_CHANNEL_",
        "ENGAGEMENT_OUTCOME_", "BACKEND_STATE_", "SIGNATORY_", "MEETING_KIND_",
    ]

    /// The line every report starts with on a simulated clock, so that nobody takes its "now"
    /// for real time.
    static func simulatedBanner(now: Int64?) -> String {
        guard let now else { return "SIMULATED CLOCK: this deployment does not run on real time (accord clock)" }
        return "SIMULATED CLOCK: this deployment's time is \(Moment.text(now)), not real time"
    }

    /// A list: a table of the chosen columns (a column is a field name, or "a.b" for a nested
    /// field), or a JSON array.
    static func table(_ items: [some JSONRepresentable], columns: [String], json: Bool) {
        if json {
            print(JSONValue.array(items.map(\.json)).serialized(indent: 2))
            return
        }
        let rows = items.map { item in
            columns.map { column -> String in
                var value: JSONValue? = item.json
                for key in column.split(separator: ".") { value = value?[String(key)] }
                return value.map { Self.cell(column, $0) } ?? ""
            }
        }
        let headers = columns.map { $0.split(separator: ".").last.map(String.init)?.uppercased() ?? $0 }
        let widths = headers.indices.map { index in
            min(48, max(headers[index].count, rows.map { $0[index].count }.max() ?? 0))
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { cell, width in
                let clipped = cell.count > width ? String(cell.prefix(width - 1)) + "…" : cell
                return clipped.padding(toLength: width, withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        print(line(headers))
        for row in rows { print(line(row)) }
        if items.isEmpty { print("(none)") }
    }
}

/// Parses enum values given by their short names (JEM, ICE, APPROVED…), in any case.
func enumValue<E: ProtoEnum>(_ text: String, as type: E.Type, prefix: String, option: String) throws -> E {
    let name = prefix + text.uppercased().replacingOccurrences(of: "-", with: "_")
    guard let value = E(protoName: name), value.isKnownAndSpecified else {
        let choices = E.knownCases.filter(\.isKnownAndSpecified).map {
            String($0.protoName.dropFirst(prefix.count)).lowercased().replacingOccurrences(of: "_", with: "-")
        }
        throw ValidationError("\(option): \(text) is not one of \(choices.joined(separator: ", "))")
    }
    return value
}

func optionalEnum<E: ProtoEnum>(_ text: String?, as type: E.Type, prefix: String, option: String) throws -> E? {
    try text.map { try enumValue($0, as: type, prefix: prefix, option: option) }
}

/// "now" (the machine's; commands use ``Gateway/moment(_:option:endOfDay:)``, whose "now" is the
/// services'), "YYYY-MM-DD" (midnight UTC, or the day's last millisecond with `endOfDay`), or an
/// ISO 8601 date and time with its zone, as Unix milliseconds. A date that is not on the
/// calendar (2026-02-30) is refused, not moved.
func parseMoment(_ text: String, option: String, endOfDay: Bool = false) throws -> Int64 {
    if text == "now" { return Int64(Date().timeIntervalSince1970 * 1000) }
    if let moment = Moment.milliseconds(text) { return moment }
    if let day = Day(text) { return day.startMilliseconds + (endOfDay ? 86_399_999 : 0) }
    throw ValidationError(
        "\(option): \(text) is not \"now\", a date as YYYY-MM-DD or an ISO 8601 time such as 2026-05-01T14:30:00Z"
    )
}
