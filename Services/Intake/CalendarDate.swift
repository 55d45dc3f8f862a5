import AccordCalendar

/// A calendar date without a time zone, as the program's documents give them ("2025-05-08").
public struct CalendarDate: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= Self.days(inMonth: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses "YYYY-MM-DD" only (the API's format), with the parser every service shares.
    public init?(iso text: String) {
        guard let day = Day(text) else { return nil }
        let (year, month, date) = day.components
        self.init(year: year, month: month, day: date)
    }

    /// Parses the forms ICE sheets use: "2025-05-08", "2025-05-08 00:00:00", "5/8/2025",
    /// "05/08/2025". Run-together forms such as "7/72025" or "05/082025" are refused, not guessed.
    public init?(sheet text: String) {
        let trimmed = Normalize.trimmed(text)
        let datePart = trimmed.split(separator: " ").first.map(String.init) ?? ""
        if let date = CalendarDate(iso: datePart) {
            if trimmed.contains(" ") {
                let time = trimmed.split(separator: " ").dropFirst().joined(separator: " ")
                guard time == "00:00:00" || time == "0:00" || time == "00:00" else { return nil }
            }
            self = date
            return
        }
        let parts = datePart.split(separator: "/", omittingEmptySubsequences: false)
        guard trimmed == datePart, parts.count == 3, (1...2).contains(parts[0].count), (1...2).contains(parts[1].count),
            parts[2].count == 4, let month = Int(parts[0]), let day = Int(parts[1]), let year = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The UTC date of a Unix time in milliseconds.
    public init(unixMilliseconds: Int64) {
        (self.year, self.month, self.day) = Day(unixMilliseconds: unixMilliseconds).components
    }

    public var description: String {
        let y = String(self.year)
        let m = self.month < 10 ? "0\(self.month)" : "\(self.month)"
        let d = self.day < 10 ? "0\(self.day)" : "\(self.day)"
        return "\(String(repeating: "0", count: max(0, 4 - y.count)))\(y)-\(m)-\(d)"
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    static func days(inMonth month: Int, year: Int) -> Int { Day.days(inMonth: month, year: year) }
}
