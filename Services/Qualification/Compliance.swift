public import AccordMessages

/// Recurring-training status as of a date: each course falls due a fixed number of days after
/// its last completion (or after certification, before the first).
public enum Compliance {
    /// One officer's courses and overall status as of `asOf`.
    public static func officer(
        id: String,
        agencyID: String,
        model: Model,
        certifiedOn: String,
        completions: [String: String],
        rules: RuleSet,
        asOf: String
    ) -> OfficerCompliance {
        guard let today = Day(asOf) else { return OfficerCompliance(officerId: id, agencyId: agencyID, model: model) }
        var worst = TrainingStatus.current
        var courses: [CourseStatus] = []
        for course in rules.recurring.courses(for: model) {
            let base = max(certifiedOn, completions[course.course] ?? certifiedOn)
            guard let start = Day(base) else { continue }
            let due = start.adding(course.everyDays)
            let status: TrainingStatus =
                today > due
                ? .overdue : (due.number - today.number <= rules.recurring.dueSoonDays ? .dueSoon : .current)
            if status.rawValue > worst.rawValue { worst = status }
            courses.append(CourseStatus(course: course.course, dueOn: due.description, status: status))
        }
        return OfficerCompliance(officerId: id, agencyId: agencyID, model: model, status: worst, courses: courses)
    }
}

/// A calendar day as a count from 1970-01-01, for adding days and comparing.
public struct Day: Comparable, Sendable, CustomStringConvertible {
    public let number: Int

    public init(number: Int) { self.number = number }

    /// Parses "YYYY-MM-DD".
    public init?(_ text: String) {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let year = parts[1] <= 2 ? parts[0] - 1 : parts[0]
        let era = (year >= 0 ? year : year - 399) / 400
        let yoe = year - era * 400
        let mp = (parts[1] + 9) % 12
        let doy = (153 * mp + 2) / 5 + parts[2] - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        self.number = era * 146_097 + doe - 719_468
    }

    public func adding(_ days: Int) -> Day { Day(number: self.number + days) }

    public var description: String {
        let z = self.number + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
    }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.number < rhs.number }
}
