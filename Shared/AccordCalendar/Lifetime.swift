/// How long something lasts, as people write it: `90d`, `12h`, `30m`, `45s`, or `never` (0 seconds).
public enum Lifetime {
    /// Seconds of `text`; nil for anything else (a number without its unit included).
    public static func seconds(_ text: String) -> Int64? {
        if text.lowercased() == "never" { return 0 }
        guard let unit = text.last, let count = Day.digits(text.dropLast()) else { return nil }
        let multiplier: Int64
        switch unit {
        case "d": multiplier = 86_400
        case "h": multiplier = 3_600
        case "m": multiplier = 60
        case "s": multiplier = 1
        default: return nil
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : seconds
    }
}
