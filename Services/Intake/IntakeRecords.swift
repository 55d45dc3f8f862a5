import AccordMessages
import AccordRPC
import GRDB

/// Maps intake's rows to messages, and ids to row ids.
enum IntakeRecords {
    static func agencyID(_ rowid: Int64) -> String { "ag_\(rowid)" }
    static func requestID(_ rowid: Int64) -> String { "rq_\(rowid)" }

    static func rowid(_ id: String, prefix: String) -> Int64? {
        guard id.hasPrefix(prefix + "_"), let rowid = Int64(id.dropFirst(prefix.count + 1)), rowid > 0 else {
            return nil
        }
        return rowid
    }

    static func change(_ row: Row, _ prefix: String) -> ChangeInfo {
        ChangeInfo(who: row["\(prefix)_by"], atMs: row["\(prefix)_at_ms"], why: row["\(prefix)_why"])
    }

    /// The columns `agency(_:)` reads, by position (named lookups in GRDB fold case on every call).
    static let agencyColumns = """
        rowid, state, name, type, county, ori, has_jail, jail_capacity,
        created_by, created_at_ms, created_why, updated_by, updated_at_ms, updated_why
        """

    /// An agency from a row selected with ``agencyColumns``.
    static func agency(_ row: Row) -> Agency {
        Agency(
            id: self.agencyID(row[0]),
            state: row[1],
            name: row[2],
            type: AgencyType(rawValue: row[3]),
            county: row[4],
            ori: row[5],
            hasJail: (row[6] as Int64?).map { $0 != 0 },
            jailCapacity: (row[7] as Int64?).map { UInt32(clamping: $0) },
            created: ChangeInfo(who: row[8], atMs: row[9], why: row[10]),
            updated: ChangeInfo(who: row[11], atMs: row[12], why: row[13])
        )
    }

    static func request(_ row: Row) -> ParticipationRequest {
        var consent: Consent?
        if row["consent_name"] as String? != nil {
            consent = Consent(
                officialName: row["consent_name"],
                office: row["consent_office"],
                signedOn: row["consent_signed_on"]
            )
        }
        var needs: NeedsAssessment?
        if row["officers_proposed"] as Int64? != nil {
            needs = NeedsAssessment(
                expectedAnnualEncounters: (row["expected_encounters"] as Int64?).map { UInt32(clamping: $0) },
                detentionCapacity: (row["detention_capacity"] as Int64?).map { UInt32(clamping: $0) },
                officersProposed: (row["officers_proposed"] as Int64?).map { UInt32(clamping: $0) }
            )
        }
        return ParticipationRequest(
            id: self.requestID(row["rowid"]),
            agencyId: self.agencyID(row["agency_rowid"]),
            model: Model(rawValue: row["model"]),
            partner: FederalPartner(rawValue: row["partner"]),
            consent: consent,
            needs: needs,
            status: RequestStatus(rawValue: row["status"]),
            revision: UInt32(clamping: row["revision"] as Int64),
            deficiencies: self.deficiencies(decoding: row["deficiencies"]),
            rulesVersion: row["rules_version"],
            created: self.change(row, "created"),
            updated: self.change(row, "updated"),
            source: row["source"]
        )
    }

    /// Deficiencies are stored one per line as CODE, a tab, and the message.
    static func deficiencies(encoding list: [Deficiency]) -> String {
        list.map { "\($0.code ?? "")\t\(($0.message ?? "").replacingNewlines())" }.joined(separator: "\n")
    }

    static func deficiencies(decoding text: String) -> [Deficiency] {
        text.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            return Deficiency(code: String(parts[0]), message: parts.count > 1 ? String(parts[1]) : "")
        }
    }

    static func appendChange(
        _ db: Database,
        entity: String,
        id: String,
        action: String,
        who: String,
        at: Int64,
        why: String?
    ) throws {
        try db.cachedStatement(
            sql: "INSERT INTO change_log (entity, entity_id, action, who, at_ms, why) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [entity, id, action, who, at, why])
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        self.split(whereSeparator: { $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }
}
