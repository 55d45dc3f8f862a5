import AccordMessages
import AccordStorage

/// Maps supervision's SQLite rows to messages.
enum SupervisionRows {
    static func id(_ prefix: String, _ rowid: Int64) -> String { "\(prefix)_\(rowid)" }

    static func agreement(_ row: SQLRow, addenda: [Addendum]) -> Agreement {
        Agreement(
            id: Self.id("mo", row["rowid"]),
            agencyId: row["agency_id"],
            agencyName: row["agency_name"],
            state: row["state"],
            model: Model(rawValue: row["model"]),
            partner: FederalPartner(rawValue: row["partner"]),
            office: row["office"],
            status: AgreementStatus(rawValue: row["status"]),
            requestId: row["request_id"],
            agencySignedBy: row["agency_signed_by"],
            agencySignedOn: row["agency_signed_on"],
            federalSignedBy: row["federal_signed_by"],
            federalSignedOn: row["federal_signed_on"],
            effectiveOn: row["effective_on"],
            reviewDueOn: row["review_due_on"],
            moaLink: row["moa_link"],
            addenda: addenda,
            suspensionReason: row["suspension_reason"],
            suspensionDays: (row["suspension_days"] as Int64?).map { UInt32(clamping: $0) },
            suspensionResponse: row["suspension_response"],
            terminationReason: row["termination_reason"],
            terminationNoticedOn: row["termination_noticed_on"],
            terminationEffectiveOn: row["termination_effective_on"],
            supersedes: (row["supersedes"] as Int64?).map { Self.id("mo", $0) },
            supersededBy: (row["superseded_by"] as Int64?).map { Self.id("mo", $0) },
            supervisorId: (row["supervisor_rowid"] as Int64?).map { Self.id("sv", $0) },
            created: ChangeInfo(who: row["created_by"], atMs: row["created_at_ms"]),
            updated: (row["updated_at_ms"] as Int64?).map {
                ChangeInfo(who: row["updated_by"], atMs: $0, why: row["updated_why"])
            },
            source: row["source"]
        )
    }

    static func supervisor(_ row: SQLRow) -> Supervisor {
        Supervisor(
            id: Self.id("sv", row["rowid"]),
            name: row["name"],
            component: FederalPartner(rawValue: row["component"]),
            office: row["office"],
            created: ChangeInfo(who: row["created_by"], atMs: row["created_at_ms"])
        )
    }

    /// An authorization as stored: its functions are the rules' to fill in.
    static func authorization(_ row: SQLRow) -> Authorization {
        Authorization(
            id: Self.id("az", row["rowid"]),
            officerId: row["officer_id"],
            officerName: row["officer_name"],
            agencyId: row["agency_id"],
            agreementId: Self.id("mo", row["agreement_rowid"]),
            model: Model(rawValue: row["model"]),
            status: AuthorizationStatus(rawValue: row["status"]),
            functions: [],
            authorizedAtMs: row["authorized_at_ms"],
            expiresAtMs: row["expires_at_ms"],
            credentialSerial: row["credential_serial"],
            detainerCategories: (row["categories"] as String).split(separator: "\n").map(String.init),
            supervisorId: (row["supervisor_rowid"] as Int64?).map { Self.id("sv", $0) },
            revokedBecause: row["revoked_because"],
            suspendedBecause: row["suspended_because"],
            certifiedRulesVersion: row["certified_rules_version"]
        )
    }

    static func action(_ row: SQLRow) -> DelegatedAction {
        DelegatedAction(
            id: Self.id("ac", row["rowid"]),
            officerId: row["officer_id"],
            agencyId: row["agency_id"],
            agreementId: (row["agreement_rowid"] as Int64?).map { Self.id("mo", $0) },
            authorizationId: (row["authorization_rowid"] as Int64?).map { Self.id("az", $0) },
            function: DelegatedFunction(rawValue: row["function"]),
            performedAtMs: row["performed_at_ms"],
            place: ActionPlace(rawValue: row["place"]),
            location: row["location"],
            subjectRef: row["subject_ref"],
            outcome: row["outcome"],
            citizenshipClaimed: (row["citizenship_claimed"] as Int64) != 0,
            detainerCategory: row["detainer_category"],
            decision: ActionDecision(rawValue: row["decision"]),
            rejectionCode: row["rejection_code"],
            rejectionReason: row["rejection_reason"],
            recordedAtMs: row["recorded_at_ms"],
            notifyByMs: row["notify_by_ms"],
            late: (row["late"] as Int64) != 0,
            supervisorId: (row["supervisor_rowid"] as Int64?).map { Self.id("sv", $0) },
            review: ReviewStatus(rawValue: row["review"]),
            reviewReason: row["review_reason"],
            reviewedAtMs: row["reviewed_at_ms"],
            draft: (row["draft"] as Int64) != 0,
            signedBy: row["signed_by"]
        )
    }

    static func complaint(_ row: SQLRow) -> Complaint {
        Complaint(
            id: Self.id("cp", row["rowid"]),
            agreementId: Self.id("mo", row["agreement_rowid"]),
            agencyId: row["agency_id"],
            officerId: row["officer_id"],
            source: row["source"],
            summary: row["summary"],
            receivedAtMs: row["received_at_ms"],
            mayLeadToDiscipline: (row["may_lead_to_discipline"] as Int64) != 0,
            status: ComplaintStatus(rawValue: row["status"]),
            notifiedAtMs: row["notified_at_ms"],
            noticeDueMs: row["notice_due_ms"],
            resolutionDueMs: row["resolution_due_ms"],
            resolvedAtMs: row["resolved_at_ms"],
            resolution: row["resolution"],
            outcomeReportedAtMs: row["outcome_reported_at_ms"],
            outcomeReportDueMs: row["outcome_report_due_ms"]
        )
    }

    static func inspection(_ row: SQLRow) -> Inspection {
        Inspection(
            id: Self.id("in", row["rowid"]),
            agreementId: Self.id("mo", row["agreement_rowid"]),
            scheduledOn: row["scheduled_on"],
            status: InspectionStatus(rawValue: row["status"]),
            findings: (row["findings"] as String).split(separator: "\n").map(String.init),
            correctiveActions: (row["corrective_actions"] as String).split(separator: "\n").map(String.init),
            inspectedOn: row["inspected_on"],
            closedOn: row["closed_on"]
        )
    }

    static func auditEntry(_ row: SQLRow) -> AuditEntry {
        AuditEntry(
            sequence: UInt64(clamping: row["sequence"] as Int64),
            atMs: row["at_ms"],
            who: row["who"],
            entity: row["entity"],
            entityId: row["entity_id"],
            action: row["action"],
            why: row["why"],
            stateHash: row["state_hash"],
            previousHash: row["previous_hash"],
            hash: row["hash"],
            happenedAtMs: row["happened_at_ms"]
        )
    }
}
