/// Instants written as people and documents write them, parsed strictly: every date part must
/// be a real calendar date (``Day/init(_:)``), every time part in range. The one parser of
/// dates and times that every service, the CLI and the tools share, so that `2026-02-30` is
/// refused everywhere rather than moved to March.
public enum Moment {
    /// Unix milliseconds of `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z` or an offset
    /// (`+HH:MM`, `-HH:MM`); nil for anything else.
    public static func milliseconds(_ text: String) -> Int64? {
        let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let day = Day(String(parts[0])) else { return nil }
        var time = Substring(parts[1])
        // Milliseconds the written time is ahead of UTC.
        let offset: Int64
        if time.hasSuffix("Z") {
            offset = 0
            time = time.dropLast()
        } else if time.count > 6, let sign = time.dropLast(5).last, sign == "+" || sign == "-" {
            guard let ahead = Self.clock(time.suffix(5), seconds: false) else { return nil }
            offset = sign == "+" ? ahead : -ahead
            time = time.dropLast(6)
        } else {
            return nil
        }
        guard let since = Self.clock(time, seconds: true) else { return nil }
        return day.startMilliseconds + since - offset
    }

    /// `milliseconds` written back as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), for messages.
    public static func text(_ milliseconds: Int64) -> String {
        let day = Day(unixMilliseconds: milliseconds)
        let seconds = (milliseconds - day.startMilliseconds) / 1000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day)T\(two(seconds / 3600)):\(two(seconds % 3600 / 60)):\(two(seconds % 60))Z"
    }

    /// Milliseconds since midnight of `HH:MM[:SS[.fff]]` (`HH:MM` alone when `seconds` is false).
    private static func clock(_ text: Substring, seconds allowSeconds: Bool) -> Int64? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...(allowSeconds ? 3 : 2)).contains(fields.count), fields[0].count == 2, fields[1].count == 2,
            let hours = Day.digits(fields[0]), let minutes = Day.digits(fields[1]), (0...23).contains(hours),
            (0...59).contains(minutes)
        else { return nil }
        var total = (hours * 60 + minutes) * 60_000
        if fields.count == 3 {
            let second = fields[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard second[0].count == 2, let whole = Day.digits(second[0]), (0...59).contains(whole) else { return nil }
            total += whole * 1000
            if second.count == 2 {
                let fraction = second[1]
                guard (1...9).contains(fraction.count), let digits = Day.digits(fraction) else { return nil }
                // To milliseconds: "5" is 500, "123456" is 123.
                var scaled = digits
                var places = fraction.count
                while places < 3 {
                    scaled *= 10
                    places += 1
                }
                while places > 3 {
                    scaled /= 10
                    places -= 1
                }
                total += scaled
            }
        }
        return total
    }
}
