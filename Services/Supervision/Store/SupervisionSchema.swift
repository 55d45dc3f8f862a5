import AccordStorage
import GRDB

/// Supervision's tables. Every table whose rows are audited declares `rowid INTEGER PRIMARY KEY`
/// so that the audit trail hashes the row id with the rest of the row.
enum SupervisionSchema {
    /// Both engines' histories.
    /// The service's own history, then the shared table of its simulated clock's moves.
    static let migrations = StorageLocation.Migrations(
        sqlite: sqlite + [SimulatedClockRecords.sqliteMigration],
        postgres: postgres + [SimulatedClockRecords.postgresMigration]
    )

    /// SQLite's history.
    static let sqlite = [
        Migration("2026-11-30-supervision-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE agreement (
                        rowid INTEGER PRIMARY KEY,
                        agency_id TEXT NOT NULL,
                        agency_name TEXT NOT NULL,
                        state TEXT NOT NULL,
                        model INTEGER NOT NULL,
                        partner INTEGER NOT NULL,
                        office TEXT,
                        status INTEGER NOT NULL,
                        request_id TEXT,
                        agency_signed_by TEXT,
                        agency_signed_on TEXT,
                        federal_signed_by TEXT,
                        federal_signed_on TEXT,
                        effective_on TEXT,
                        review_due_on TEXT,
                        moa_link TEXT,
                        suspension_reason TEXT,
                        suspension_days INTEGER,
                        suspension_response TEXT,
                        termination_reason TEXT,
                        termination_noticed_on TEXT,
                        termination_effective_on TEXT,
                        supersedes INTEGER,
                        superseded_by INTEGER,
                        supervisor_rowid INTEGER,
                        created_by TEXT NOT NULL,
                        created_at_ms INTEGER NOT NULL,
                        updated_by TEXT,
                        updated_at_ms INTEGER,
                        updated_why TEXT,
                        source TEXT NOT NULL,
                        -- agency, model and signed date of an agreement taken from an ICE sheet.
                        import_key TEXT UNIQUE
                    );
                    CREATE INDEX agreement_agency ON agreement (agency_id, model);
                    -- Every status an agreement has had and since when: actions and reports are
                    -- judged against the status at their moment.
                    CREATE TABLE agreement_status (
                        rowid INTEGER PRIMARY KEY,
                        agreement_rowid INTEGER NOT NULL,
                        status INTEGER NOT NULL,
                        at_ms INTEGER NOT NULL
                    );
                    CREATE INDEX agreement_status_at ON agreement_status (agreement_rowid, at_ms);
                    CREATE TABLE addendum (
                        rowid INTEGER PRIMARY KEY,
                        agreement_rowid INTEGER NOT NULL,
                        title TEXT NOT NULL,
                        link TEXT,
                        signed_on TEXT NOT NULL
                    );
                    CREATE INDEX addendum_agreement ON addendum (agreement_rowid);
                    CREATE TABLE supervisor (
                        rowid INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        component INTEGER NOT NULL,
                        office TEXT NOT NULL,
                        created_by TEXT NOT NULL,
                        created_at_ms INTEGER NOT NULL
                    );
                    -- Qualification's notices of certified officers.
                    CREATE TABLE certification (
                        rowid INTEGER PRIMARY KEY,
                        officer_id TEXT NOT NULL UNIQUE,
                        agency_id TEXT NOT NULL,
                        model INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        certified_on TEXT NOT NULL,
                        rules_version TEXT,
                        received_at_ms INTEGER NOT NULL
                    );
                    CREATE TABLE authorization (
                        rowid INTEGER PRIMARY KEY,
                        officer_id TEXT NOT NULL,
                        officer_name TEXT NOT NULL,
                        agency_id TEXT NOT NULL,
                        agreement_rowid INTEGER NOT NULL,
                        model INTEGER NOT NULL,
                        status INTEGER NOT NULL,
                        authorized_at_ms INTEGER NOT NULL,
                        expires_at_ms INTEGER,
                        credential_serial TEXT,
                        categories TEXT NOT NULL DEFAULT '',
                        supervisor_rowid INTEGER,
                        revoked_at_ms INTEGER,
                        revoked_because TEXT,
                        suspended_because TEXT,
                        certified_rules_version TEXT
                    );
                    CREATE INDEX authorization_officer ON authorization (officer_id, authorized_at_ms);
                    CREATE INDEX authorization_agreement ON authorization (agreement_rowid);
                    -- At most one authorization in force (active or suspended) per officer.
                    CREATE UNIQUE INDEX authorization_live ON authorization (officer_id) WHERE status IN (1, 2);
                    CREATE TABLE authorization_suspension (
                        rowid INTEGER PRIMARY KEY,
                        authorization_rowid INTEGER NOT NULL,
                        from_ms INTEGER NOT NULL,
                        until_ms INTEGER,
                        reason TEXT NOT NULL,
                        complaint_rowid INTEGER
                    );
                    CREATE INDEX authorization_suspension_of ON authorization_suspension (authorization_rowid);
                    CREATE TABLE action (
                        rowid INTEGER PRIMARY KEY,
                        officer_id TEXT NOT NULL,
                        agency_id TEXT,
                        agreement_rowid INTEGER,
                        authorization_rowid INTEGER,
                        function INTEGER NOT NULL,
                        performed_at_ms INTEGER NOT NULL,
                        place INTEGER NOT NULL,
                        location TEXT,
                        subject_ref TEXT NOT NULL,
                        outcome TEXT,
                        citizenship_claimed INTEGER NOT NULL,
                        detainer_category TEXT,
                        decision INTEGER NOT NULL,
                        rejection_code TEXT,
                        rejection_reason TEXT,
                        recorded_at_ms INTEGER NOT NULL,
                        recorded_by TEXT NOT NULL,
                        notify_by_ms INTEGER,
                        late INTEGER NOT NULL,
                        supervisor_rowid INTEGER,
                        review INTEGER NOT NULL,
                        review_reason TEXT,
                        reviewed_at_ms INTEGER,
                        reviewed_by TEXT,
                        draft INTEGER NOT NULL,
                        signed_by TEXT
                    );
                    CREATE INDEX action_officer ON action (officer_id);
                    CREATE INDEX action_agreement ON action (agreement_rowid);
                    CREATE INDEX action_review_queue ON action (supervisor_rowid, recorded_at_ms) WHERE review = 1;
                    CREATE INDEX action_report ON action (performed_at_ms, function, decision, review, late);
                    CREATE TABLE complaint (
                        rowid INTEGER PRIMARY KEY,
                        agreement_rowid INTEGER NOT NULL,
                        agency_id TEXT NOT NULL,
                        officer_id TEXT,
                        source TEXT NOT NULL,
                        summary TEXT NOT NULL,
                        received_at_ms INTEGER NOT NULL,
                        may_lead_to_discipline INTEGER NOT NULL,
                        status INTEGER NOT NULL,
                        notified_at_ms INTEGER,
                        notice_due_ms INTEGER NOT NULL,
                        resolution_due_ms INTEGER NOT NULL,
                        resolved_at_ms INTEGER,
                        resolution TEXT,
                        outcome_reported_at_ms INTEGER,
                        outcome_report_due_ms INTEGER,
                        filed_by TEXT NOT NULL
                    );
                    CREATE INDEX complaint_agreement ON complaint (agreement_rowid);
                    CREATE TABLE inspection (
                        rowid INTEGER PRIMARY KEY,
                        agreement_rowid INTEGER NOT NULL,
                        scheduled_on TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        findings TEXT NOT NULL DEFAULT '',
                        corrective_actions TEXT NOT NULL DEFAULT '',
                        inspected_on TEXT,
                        closed_on TEXT
                    );
                    CREATE INDEX inspection_agreement ON inspection (agreement_rowid);
                    CREATE TABLE meeting (
                        rowid INTEGER PRIMARY KEY,
                        agreement_rowid INTEGER NOT NULL,
                        kind INTEGER NOT NULL,
                        held_on TEXT NOT NULL,
                        notes TEXT
                    );
                    CREATE INDEX meeting_agreement ON meeting (agreement_rowid, held_on);
                    """
            )
            try db.execute(sql: AuditTrail.migration)
        },
        Migration("2026-11-30-supervision-v2-suspension-cause") { db in
            // Why an authority is suspended: "manual", "complaint" or "training" (recurring
            // training overdue, lifted by the compliance sweep once current again).
            try db.execute(sql: "ALTER TABLE authorization_suspension ADD COLUMN cause TEXT")
        },
        Migration("2026-11-30-supervision-v3-request-outbox") { db in
            try db.execute(
                sql: """
                    -- Progress of participation requests to tell intake (offered, signed), written in
                    -- the transaction of the change and delivered later.
                    CREATE TABLE outbox (
                        rowid INTEGER PRIMARY KEY,
                        request_id TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        agreement_rowid INTEGER NOT NULL,
                        created_at_ms INTEGER NOT NULL,
                        delivered_at_ms INTEGER
                    );
                    CREATE INDEX outbox_pending ON outbox (rowid) WHERE delivered_at_ms IS NULL;
                    """
            )
        },
        Migration("2026-11-30-supervision-v4-report-indexes") { db in
            try db.execute(
                sql: """
                    -- The report counts actions by function, decision and review up to a moment: an
                    -- index in that order is scanned without sorting; late ones have their own.
                    DROP INDEX action_report;
                    CREATE INDEX action_counts ON action (function, decision, review, performed_at_ms);
                    CREATE INDEX action_late ON action (performed_at_ms) WHERE late = 1;
                    """
            )
        },
        Migration("2026-11-30-supervision-v5-agency-indexes") { db in
            try db.execute(
                sql: """
                    -- An agency's authorizations, complaints and latest actions (the gateway's dossier).
                    CREATE INDEX authorization_agency ON authorization (agency_id);
                    CREATE INDEX complaint_agency ON complaint (agency_id);
                    CREATE INDEX action_agency ON action (agency_id);
                    """
            )
        },
        Migration("2026-11-30-supervision-v6-supervisor-history") { db in
            try db.execute(
                sql: """
                    -- Who supervised an agreement or an officer from when: an action is checked, and a
                    -- report counted, against the assignment of its moment. The current one stays on
                    -- the agreement and authorization rows.
                    CREATE TABLE supervisor_assignment (
                        rowid INTEGER PRIMARY KEY,
                        agreement_rowid INTEGER,
                        authorization_rowid INTEGER,
                        supervisor_rowid INTEGER NOT NULL,
                        from_ms INTEGER NOT NULL,
                        CHECK ((agreement_rowid IS NULL) <> (authorization_rowid IS NULL))
                    );
                    CREATE INDEX supervisor_assignment_agreement ON supervisor_assignment (agreement_rowid, from_ms)
                        WHERE agreement_rowid IS NOT NULL;
                    CREATE INDEX supervisor_assignment_authorization
                        ON supervisor_assignment (authorization_rowid, from_ms) WHERE authorization_rowid IS NOT NULL;
                    -- Earlier assignments, from the audit trail (each "assign:sv_N" entry, in order)...
                    INSERT INTO supervisor_assignment (agreement_rowid, authorization_rowid, supervisor_rowid, from_ms)
                        SELECT CASE entity WHEN 'agreement' THEN CAST(substr(entity_id, 4) AS INTEGER) END,
                            CASE entity WHEN 'authorization' THEN CAST(substr(entity_id, 4) AS INTEGER) END,
                            CAST(substr(action, 11) AS INTEGER), at_ms
                        FROM audit WHERE entity IN ('agreement', 'authorization') AND action LIKE 'assign:sv_%'
                        ORDER BY sequence;
                    -- ...and those made with the row (a renewal's copy, a supervisor given at authorization).
                    INSERT INTO supervisor_assignment (agreement_rowid, supervisor_rowid, from_ms)
                        SELECT a.rowid, a.supervisor_rowid, a.created_at_ms FROM agreement a
                        WHERE a.supervisor_rowid IS NOT NULL
                            AND NOT EXISTS (SELECT 1 FROM supervisor_assignment h WHERE h.agreement_rowid = a.rowid);
                    INSERT INTO supervisor_assignment (authorization_rowid, supervisor_rowid, from_ms)
                        SELECT z.rowid, z.supervisor_rowid, z.authorized_at_ms FROM authorization z
                        WHERE z.supervisor_rowid IS NOT NULL
                            AND NOT EXISTS (SELECT 1 FROM supervisor_assignment h WHERE h.authorization_rowid = z.rowid);
                    """
            )
            // Every row of an audited table has its entry.
            let rows = try Row.fetchAll(db, sql: "SELECT rowid, from_ms FROM supervisor_assignment ORDER BY rowid")
            for row in rows {
                try AuditTrail.record(
                    SQLiteSession(db),
                    table: "supervisor_assignment",
                    rowid: row["rowid"],
                    action: "assign",
                    who: "supervision",
                    why: "history of an earlier assignment",
                    at: row["from_ms"]
                )
            }
        },
        // Outbox rows are claimed by one sender at a time (several replicas may run).
        Migration("2026-12-01-supervision-v7-outbox-claims") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN claimed_until_ms INTEGER")
        },
        // Periodic work (the termination clock, the compliance sweep) runs on one replica at a time.
        Migration("2026-12-01-supervision-v8-periodic-leases") { db in
            try db.execute(
                sql:
                    "CREATE TABLE periodic_lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until_ms INTEGER NOT NULL)"
            )
        },
        // An audit entry of a fact recorded after it happened keeps both times.
        Migration("2026-12-01-supervision-v9-audit-happened-at") { db in
            try db.execute(sql: "ALTER TABLE audit ADD COLUMN happened_at_ms INTEGER")
        },
    ]
}
