import AccordCalendar
import AccordMessages

/// Complaint deadlines: counted in weekday hours and days, and which were missed as of a moment.
extension SupervisionService {
    /// `hours` of weekdays after `start` (UTC): Saturdays and Sundays do not count.
    public static func addingBusinessHours(_ hours: Int, to start: Int64) -> Int64 {
        var remaining = Int64(hours) * 3_600_000
        var t = start
        while true {
            var day = Day(unixMilliseconds: t)
            while day.weekday >= 5 {
                day = day.adding(1)
                t = day.startMilliseconds
            }
            let endOfDay = day.adding(1).startMilliseconds
            if remaining <= endOfDay - t { return t + remaining }
            remaining -= endOfDay - t
            t = endOfDay
        }
    }

    /// The deadlines a complaint has missed as of `now`.
    static func overdue(_ complaint: Complaint, now: Int64) -> [String] {
        var missed: [String] = []
        if (complaint.notifiedAtMs ?? now) > (complaint.noticeDueMs ?? 0) { missed.append("notice") }
        if (complaint.resolvedAtMs ?? now) > (complaint.resolutionDueMs ?? 0) { missed.append("resolution") }
        if let reportDue = complaint.outcomeReportDueMs, (complaint.outcomeReportedAtMs ?? now) > reportDue {
            missed.append("outcome_report")
        }
        return missed
    }

    /// The complaint as it stood at `moment`: what was recorded of it later left out.
    static func asItStood(_ complaint: Complaint, at moment: Int64) -> Complaint {
        var then = complaint
        if let notified = then.notifiedAtMs, notified > moment { then.notifiedAtMs = nil }
        if let resolved = then.resolvedAtMs, resolved > moment {
            then.resolvedAtMs = nil
            then.resolution = nil
            then.outcomeReportDueMs = nil
            then.status = .open
        }
        if let reported = then.outcomeReportedAtMs, reported > moment { then.outcomeReportedAtMs = nil }
        return then
    }

    /// The complaint as callers see it: with the deadlines it has missed as of `now`.
    static func present(_ complaint: Complaint, now: Int64) -> Complaint {
        var shown = complaint
        shown.overdue = Self.overdue(complaint, now: now)
        return shown
    }
}
