/// A calendar day without a time zone ("2025-05-08"), as a count of days from 1970-01-01, for
/// adding days and comparing. The program's documents and rules speak in days; instants are
/// Unix milliseconds, and the day of an instant is taken in UTC.
public struct Day: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let number: Int

    public init(number: Int) { self.number = number }

    /// Parses "YYYY-MM-DD" strictly: four-digit year, two-digit month and day, a real date.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Self.digits(parts[0]).map(Int.init), let month = Self.digits(parts[1]).map(Int.init),
            let day = Self.digits(parts[2]).map(Int.init),
            year >= 1, (1...12).contains(month), day >= 1, day <= Self.days(inMonth: month, year: year)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The number written by ASCII digits only (no sign, no space); nil otherwise.
    static func digits(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return Int64(text)
    }

    init(year: Int, month: Int, day: Int) {
        // Days from civil (Howard Hinnant's algorithm).
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yoe = shifted - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        self.number = era * 146_097 + doe - 719_468
    }

    /// The UTC day of an instant.
    public init(unixMilliseconds: Int64) {
        let days =
            unixMilliseconds >= 0 ? unixMilliseconds / 86_400_000 : (unixMilliseconds - 86_399_999) / 86_400_000
        self.number = Int(days)
    }

    /// Midnight UTC at the start of the day, in Unix milliseconds.
    public var startMilliseconds: Int64 { Int64(self.number) * 86_400_000 }

    public func adding(_ days: Int) -> Day { Day(number: self.number + days) }

    /// The same day `years` later (29 February becomes 28 February in other years).
    public func adding(years: Int) -> Day {
        let (year, month, day) = self.components
        let target = year + years
        return Day(year: target, month: month, day: min(day, Self.days(inMonth: month, year: target)))
    }

    /// 0 for Monday … 6 for Sunday.
    public var weekday: Int { ((self.number % 7) + 7 + 3) % 7 }

    public var components: (year: Int, month: Int, day: Int) {
        let z = self.number + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public var description: String {
        let (year, month, day) = self.components
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText
            + "-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
    }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.number < rhs.number }

    /// Days in a month of a year (Gregorian leap years).
    public static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
