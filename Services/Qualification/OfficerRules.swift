public import AccordMessages

/// What the rule set says about one officer: where their training stands under the course's
/// attempt rules, and what certification still needs.
public enum OfficerRules {
    public struct TrainingState: Equatable, Sendable {
        /// Every exam passed.
        public var completed: Bool
        /// Set when the attempt rules disqualify the officer.
        public var disqualifiedBecause: String?
    }

    /// Applies the course's rules to the attempts, in the order they were taken.
    public static func training(_ attempts: [ExamAttempt], course: RuleSet.Course) -> TrainingState {
        var failuresTotal = 0
        var failuresByExam: [String: Int] = [:]
        var passed: Set<String> = []
        for attempt in attempts {
            let exam = attempt.exam ?? ""
            if (attempt.score ?? 0) >= course.passMark {
                passed.insert(exam)
                continue
            }
            failuresTotal += 1
            failuresByExam[exam, default: 0] += 1
            if failuresTotal > course.maxFailuresTotal {
                return TrainingState(
                    completed: false,
                    disqualifiedBecause:
                        "failure \(failuresTotal) in \(course.course), at \(exam) (the course forgives \(course.maxFailuresTotal))"
                )
            }
            if failuresByExam[exam]! > course.retakesPerExam {
                return TrainingState(
                    completed: false,
                    disqualifiedBecause:
                        "\(exam) failed \(failuresByExam[exam]!) times (\(course.retakesPerExam) retake allowed)"
                )
            }
        }
        return TrainingState(completed: Set(course.exams).isSubset(of: passed), disqualifiedBecause: nil)
    }

    /// Every requirement of certification that does not hold on `today` ("YYYY-MM-DD").
    public static func missing(for officer: Officer, rules: RuleSet, today: String) -> [String] {
        var missing: [String] = []
        let eligibility = rules.eligibility
        if eligibility.usCitizen && officer.usCitizen != true { missing.append("U.S. citizenship") }
        if eligibility.favorableBackground && officer.background != .favorable {
            missing.append("a favorable background investigation")
        }
        if eligibility.noPendingComplaint && officer.pendingComplaint == true {
            missing.append("no pending complaint that may lead to discipline")
        }
        if officer.model == .tfm {
            if let sworn = officer.swornSince, let cutoff = Self.years(before: today, eligibility.tfmMinSwornYears) {
                if sworn > cutoff {
                    missing.append("\(eligibility.tfmMinSwornYears) years of sworn service (since \(sworn))")
                }
            } else {
                missing.append("\(eligibility.tfmMinSwornYears) years of sworn service")
            }
            if eligibility.tfmNeedsClearance && officer.securityClearance != true {
                missing.append("a security clearance")
            }
        }
        if let course = rules.courses[officer.model ?? .unspecified] {
            let state = self.training(officer.attempts, course: course)
            if let reason = state.disqualifiedBecause {
                missing.append("training: disqualified, \(reason)")
            } else if officer.enrolled != true {
                missing.append("enrolment in \(course.course)")
            } else if !state.completed {
                let passed = Set(officer.attempts.filter { ($0.score ?? 0) >= course.passMark }.compactMap(\.exam))
                let open = course.exams.filter { !passed.contains($0) }
                missing.append("passing \(open.joined(separator: ", ")) of \(course.course)")
            } else if officer.courseCompletedOn == nil {
                missing.append("completion of \(course.course) (\(course.hours) hours)")
            }
        }
        return missing
    }

    /// What keeps the course from being completed with `hours` attended on `completedOn`.
    public static func courseMissing(
        for officer: Officer,
        course: RuleSet.Course,
        hours: Int,
        completedOn: String
    ) -> [String] {
        var missing: [String] = []
        let state = self.training(officer.attempts, course: course)
        if let reason = state.disqualifiedBecause {
            return ["training: disqualified, \(reason)"]
        }
        if officer.enrolled != true { missing.append("enrolment in \(course.course)") }
        if !state.completed {
            let passed = Set(officer.attempts.filter { ($0.score ?? 0) >= course.passMark }.compactMap(\.exam))
            let open = course.exams.filter { !passed.contains($0) }
            missing.append("passing \(open.joined(separator: ", "))")
        }
        if hours < course.hours { missing.append("\(course.hours) hours attended (\(hours) given)") }
        if let last = officer.attempts.compactMap(\.takenOn).max(), completedOn < last {
            missing.append("a completion date on or after the last exam (\(last))")
        }
        return missing
    }

    /// The same day `years` years earlier (29 February becomes 28).
    static func years(before date: String, _ years: Int) -> String? {
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        let year = parts[0] - years
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let day = parts[1] == 2 && parts[2] == 29 && !leap ? 28 : parts[2]
        return "\(year)-\(parts[1] < 10 ? "0" : "")\(parts[1])-\(day < 10 ? "0" : "")\(day)"
    }
}
