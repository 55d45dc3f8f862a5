import AccordCalendar
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
