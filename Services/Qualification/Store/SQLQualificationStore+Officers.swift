import AccordMessages
import AccordServiceKit
import AccordStorage

extension SQLQualificationStore {
    func nominate(
        _ officer: NewOfficer,
        substituting: Int64?,
        _ change: ChangeStamp,
        check: @escaping @Sendable (Officer) throws -> Void
    ) async throws -> Officer {
        try await self.database.write { db in
            if let substituting {
                try db.lockRow("officer", substituting)
                try check(try Self.requireOfficer(db, substituting))
                try db.execute(
                    "UPDATE officer SET status = ? WHERE rowid = ?",
                    [OfficerStatus.substituted.rawValue, substituting]
                )
                try Self.logChange(db, substituting, "substituted", change.because("replaced by a new nominee"))
            }
            let rowid = try db.value(
                Int64.self,
                """
                INSERT INTO officer (agency_id, model, name, us_citizen, sworn_since, security_clearance, status)
                VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING rowid
                """,
                [
                    officer.agencyID, officer.model.rawValue, officer.name, officer.usCitizen ? 1 : 0,
                    officer.swornSince, officer.securityClearance ? 1 : 0, OfficerStatus.nominated.rawValue,
                ]
            )!
            try Self.logChange(db, rowid, "nominate", change.because(nil))
            return try Self.requireOfficer(db, rowid)
        }
    }

    func officer(rowid: Int64) async throws -> Officer? {
        try await self.database.read { db in try Self.loadOfficers(db, [rowid]).first }
    }

    func changeOfficer(
        rowid: Int64,
        _ change: ChangeStamp,
        _ decide: @escaping @Sendable (Officer) throws -> OfficerChange?
    ) async throws -> Officer {
        try await self.database.write { db in
            try db.lockRow("officer", rowid)
            let current = try Self.requireOfficer(db, rowid)
            guard let update = try decide(current) else { return current }
            try Self.apply(db, update, to: rowid)
            try Self.logChange(db, rowid, update.action, change.because(update.logWhy))
            return try Self.requireOfficer(db, rowid)
        }
    }

    private static func apply(_ db: any SQLSession, _ update: OfficerChange, to rowid: Int64) throws {
        var sets: [String] = []
        var arguments: SQLArguments = []
        func set(_ column: String, _ value: (any SQLValueConvertible)?) {
            sets.append("\(column) = ?")
            arguments += [value]
        }
        if let status = update.status { set("status", status.rawValue) }
        if let background = update.background {
            set("background", background.result.rawValue)
            set("background_on", background.on)
            set("findings", background.findings.joined(separator: "\n"))
        }
        if let reason = update.disqualifiedBecause { set("disqualified_because", reason) }
        if let pending = update.pendingComplaint { set("pending_complaint", pending ? 1 : 0) }
        if let enrolled = update.enrolled { set("enrolled", enrolled ? 1 : 0) }
        if let course = update.course {
            set("course_completed_on", course.completedOn)
            set("course_hours", Int64(course.hours))
        }
        if let day = update.certifiedOn { set("certified_on", day) }
        if let version = update.rulesVersion { set("rules_version", version) }
        if !sets.isEmpty {
            try db.execute("UPDATE officer SET \(sets.joined(separator: ", ")) WHERE rowid = ?", arguments + [rowid])
        }
        try self.insertRecords(db, update, for: rowid)
    }

    /// The exam attempt and the recurring completion a change adds.
    private static func insertRecords(_ db: any SQLSession, _ update: OfficerChange, for rowid: Int64) throws {
        if let attempt = update.attempt {
            try db.execute(
                "INSERT INTO exam_attempt (officer_rowid, exam, score, taken_on) VALUES (?, ?, ?, ?)",
                [rowid, attempt.exam, Int64(attempt.score ?? 0), attempt.takenOn]
            )
        }
        if let recurring = update.recurring {
            try db.execute(
                "INSERT INTO recurring_completion (officer_rowid, course, completed_on) VALUES (?, ?, ?)",
                [rowid, recurring.course, recurring.completedOn]
            )
        }
    }

    static func requireOfficer(_ db: any SQLSession, _ rowid: Int64) throws -> Officer {
        guard let officer = try self.loadOfficers(db, [rowid]).first else {
            throw QualificationStoreError.officerNotFound(QualificationRecords.officerID(rowid))
        }
        return officer
    }

    /// Officers in the order of `rowids`, in two queries (the rows, then every exam attempt).
    static func loadOfficers(_ db: any SQLSession, _ rowids: [Int64]) throws -> [Officer] {
        guard !rowids.isEmpty else { return [] }
        let marks = SQLArguments.placeholders(rowids.count)
        let arguments = SQLArguments(rowids)
        var attempts: [Int64: [ExamAttempt]] = [:]
        for row in try db.rows(
            """
            SELECT officer_rowid, exam, score, taken_on FROM exam_attempt
            WHERE officer_rowid IN (\(marks)) ORDER BY rowid
            """,
            arguments
        ) {
            attempts[row[0], default: []].append(QualificationRows.attempt(row, from: 1))
        }
        var byRowid: [Int64: Officer] = [:]
        for row in try db.rows("SELECT * FROM officer WHERE rowid IN (\(marks))", arguments) {
            let rowid: Int64 = row["rowid"]
            byRowid[rowid] = QualificationRows.officer(row, attempts: attempts[rowid] ?? [])
        }
        return rowids.compactMap { byRowid[$0] }
    }

    static func logChange(_ db: any SQLSession, _ rowid: Int64, _ action: String, _ change: ChangeStamp) throws {
        try db.execute(
            "INSERT INTO officer_change (officer_rowid, action, who, at_ms, why) VALUES (?, ?, ?, ?, ?)",
            [rowid, action, change.who, change.at, change.why]
        )
    }

    func officers(agencyID: String?, status: OfficerStatus?, after: Int64, limit: Int) async throws -> [Officer] {
        var filter = SQLFilter()
        filter.equal("agency_id", agencyID)
        filter.equal("status", status?.rawValue)
        filter.add("rowid > ?", [after])
        return try await self.database.read { [filter] db in
            let rowids = try db.values(
                Int64.self,
                "SELECT rowid FROM officer WHERE \(filter.sql) ORDER BY rowid LIMIT ?",
                filter.arguments + [limit]
            )
            return try Self.loadOfficers(db, rowids)
        }
    }

    func complianceFacts(
        agencyID: String?,
        asOf: String
    ) async throws -> (officers: [CertifiedOfficer], completions: [Int64: [String: String]]) {
        try await self.database.read { db in
            (
                try Self.certifiedOfficers(db, agencyID: agencyID, asOf: asOf),
                try Self.lastCompletions(db, agencyID, asOf)
            )
        }
    }

    private static func certifiedOfficers(
        _ db: any SQLSession,
        agencyID: String?,
        asOf: String
    ) throws -> [CertifiedOfficer] {
        var filter = SQLFilter()
        filter.equal("agency_id", agencyID)
        filter.add("status = ? AND certified_on <= ?", [OfficerStatus.certified.rawValue, asOf])
        return try db.rows(
            "SELECT rowid, agency_id, model, certified_on FROM officer WHERE \(filter.sql) ORDER BY rowid",
            filter.arguments
        ).map { CertifiedOfficer(rowid: $0[0], agencyID: $0[1], model: Model(rawValue: $0[2]), certifiedOn: $0[3]) }
    }

    /// The last completion of each recurring course on or before `asOf`, by officer.
    private static func lastCompletions(
        _ db: any SQLSession,
        _ agencyID: String?,
        _ asOf: String
    ) throws
        -> [Int64: [String: String]]
    {
        var completions: [Int64: [String: String]] = [:]
        // One agency's completions through the officer index; the whole program's by a scan.
        let ofAgency = agencyID == nil ? "" : "AND officer_rowid IN (SELECT rowid FROM officer WHERE agency_id = ?)"
        for row in try db.rows(
            """
            SELECT officer_rowid, course, MAX(completed_on) FROM recurring_completion
            WHERE completed_on <= ? \(ofAgency)
            GROUP BY officer_rowid, course
            """,
            SQLArguments([asOf] + (agencyID.map { [$0] } ?? []))
        ) {
            completions[row[0], default: [:]][row[1]] = row[2]
        }
        return completions
    }
}
