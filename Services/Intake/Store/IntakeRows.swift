import AccordMessages
import AccordStorage

/// Maps intake's SQLite rows to messages.
enum IntakeRows {
    /// The columns `agency(_:)` reads, by position (named lookups in GRDB fold case on every call).
    static let agencyColumns = """
        rowid, state, name, type, county, ori, has_jail, jail_capacity,
        created_by, created_at_ms, created_why, updated_by, updated_at_ms, updated_why
        """

    /// An agency from a row selected with ``agencyColumns``.
    static func agency(_ row: SQLRow) -> Agency {
        Agency(
            id: IntakeRecords.agencyID(row[0]),
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

    static func change(_ row: SQLRow, _ prefix: String) -> ChangeInfo {
        ChangeInfo(who: row["\(prefix)_by"], atMs: row["\(prefix)_at_ms"], why: row["\(prefix)_why"])
    }

    static func request(_ row: SQLRow) -> ParticipationRequest {
        ParticipationRequest(
            id: IntakeRecords.requestID(row["rowid"]),
            agencyId: IntakeRecords.agencyID(row["agency_rowid"]),
            model: Model(rawValue: row["model"]),
            partner: FederalPartner(rawValue: row["partner"]),
            consent: self.consent(row),
            needs: self.needs(row),
            status: RequestStatus(rawValue: row["status"]),
            revision: UInt32(clamping: row["revision"] as Int64),
            deficiencies: self.deficiencies(decoding: row["deficiencies"]),
            rulesVersion: row["rules_version"],
            created: self.change(row, "created"),
            updated: self.change(row, "updated"),
            source: row["source"]
        )
    }

    private static func consent(_ row: SQLRow) -> Consent? {
        guard row["consent_name"] as String? != nil else { return nil }
        return Consent(
            officialName: row["consent_name"],
            office: row["consent_office"],
            signedOn: row["consent_signed_on"]
        )
    }

    private static func needs(_ row: SQLRow) -> NeedsAssessment? {
        guard row["officers_proposed"] as Int64? != nil else { return nil }
        return NeedsAssessment(
            expectedAnnualEncounters: (row["expected_encounters"] as Int64?).map { UInt32(clamping: $0) },
            detentionCapacity: (row["detention_capacity"] as Int64?).map { UInt32(clamping: $0) },
            officersProposed: (row["officers_proposed"] as Int64?).map { UInt32(clamping: $0) }
        )
    }

    static func engagement(_ row: SQLRow) -> Engagement {
        Engagement(
            id: IntakeRecords.engagementID(row["rowid"]),
            state: row["state"],
            officialName: row["official_name"],
            office: row["office"],
            agencyId: (row["agency_rowid"] as Int64?).map(IntakeRecords.agencyID),
            contactedOn: row["contacted_on"],
            channel: EngagementChannel(rawValue: row["channel"]),
            outcome: EngagementOutcome(rawValue: row["outcome"]),
            followUpOn: row["follow_up_on"],
            notes: row["notes"],
            created: ChangeInfo(who: row["created_by"], atMs: row["created_at_ms"])
        )
    }

    static func importedAgreement(_ row: SQLRow) -> ImportedAgreement {
        ImportedAgreement(
            agencyId: IntakeRecords.agencyID(row["agency_rowid"]),
            model: Model(rawValue: row["model"]),
            signedOn: row["signed_on"],
            moaLink: row["moa_link"],
            sheet: row["sheet"]
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
}

extension String {
    fileprivate func replacingNewlines() -> String {
        self.split(whereSeparator: { $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }
}
