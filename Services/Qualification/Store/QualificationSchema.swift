import AccordStorage
import GRDB

/// The qualification database's migrations, in order. A released migration is never edited;
/// changes come as new ones.
enum QualificationSchema {
    /// Both engines' histories.
    /// The service's own history, then the shared table of its simulated clock's moves.
    static let migrations = StorageLocation.Migrations(
        sqlite: sqlite + [SimulatedClockRecords.sqliteMigration],
        postgres: postgres + [SimulatedClockRecords.postgresMigration]
    )

    /// SQLite's history.
    static let sqlite = [
        Migration("2026-11-30-qualification-v1") { db in
            try db.execute(
                sql: """
                    -- One evaluation per request revision; a row not yet reported is the outbox.
                    CREATE TABLE evaluation (
                        request_id TEXT NOT NULL,
                        revision INTEGER NOT NULL,
                        status INTEGER NOT NULL,
                        failed TEXT NOT NULL,
                        rules_version TEXT NOT NULL,
                        decided_on TEXT NOT NULL,
                        decided_at_ms INTEGER NOT NULL,
                        reported_at_ms INTEGER,
                        PRIMARY KEY (request_id, revision)
                    );
                    CREATE INDEX evaluation_unreported ON evaluation (decided_at_ms) WHERE reported_at_ms IS NULL;
                    """
            )
        },
        officerMigration,
        recurringMigration,
        Migration("2026-11-30-qualification-v4-rule-sets") { db in
            try db.execute(
                sql: """
                    -- Every rule set ever in force, so that each decision's version can be read back.
                    CREATE TABLE rule_set (
                        version TEXT PRIMARY KEY,
                        program_json TEXT NOT NULL,
                        state_law_csv TEXT NOT NULL,
                        published_by TEXT NOT NULL,
                        published_at_ms INTEGER NOT NULL,
                        reason TEXT
                    );
                    """
            )
        },
        Migration("2026-11-30-qualification-v5-certification-notices") { db in
            try db.execute(
                sql: """
                    -- Certified officers not yet notified to supervision are the outbox of notices.
                    ALTER TABLE officer ADD COLUMN supervision_notified_at_ms INTEGER;
                    CREATE INDEX officer_certified_unnotified ON officer (rowid)
                        WHERE status = 2 AND supervision_notified_at_ms IS NULL;
                    """
            )
        },
        Migration("2026-11-30-qualification-v6-agency-status-index") { db in
            try db.execute(
                sql: """
                    -- An agency's certified officers (compliance, the gateway's dossier): without it the
                    -- planner took the status index and read every certified officer of the program.
                    CREATE INDEX officer_agency_status ON officer (agency_id, status);
                    """
            )
        },
        Migration("2026-11-30-qualification-v7-course-completion") { db in
            try db.execute(
                sql: """
                    -- The course is completed by a step of its own (every exam passed, the hours
                    -- attended); certification requires it.
                    ALTER TABLE officer ADD COLUMN course_completed_on TEXT;
                    ALTER TABLE officer ADD COLUMN course_hours INTEGER;
                    """
            )
        },
        // Outbox rows (unreported decisions, certifications not yet notified) are claimed by one
        // sender at a time (several replicas may run).
        Migration("2026-12-01-qualification-v8-outbox-claims") { db in
            try db.execute(
                sql: """
                    ALTER TABLE evaluation ADD COLUMN claimed_until_ms INTEGER;
                    ALTER TABLE officer ADD COLUMN claimed_until_ms INTEGER;
                    """
            )
        },
        Migration("2026-12-02-qualification-v9-rule-set-proposals") { db in
            try db.execute(sql: proposalsSQL)
        },
    ]

    /// A rule set takes two people (docs/OPERATIONS.md): proposed by one program-office principal,
    /// approved by another; the published row names both. Every proposal stays, with its outcome.
    static let proposalsSQL = """
        CREATE TABLE rule_set_proposal (
            version TEXT PRIMARY KEY,
            program_json TEXT NOT NULL,
            state_law_csv TEXT NOT NULL,
            proposed_by TEXT NOT NULL,
            proposed_at_ms BIGINT NOT NULL,
            reason TEXT,
            approved_by TEXT,
            approved_at_ms BIGINT
        );
        ALTER TABLE rule_set ADD COLUMN proposed_by TEXT;
        ALTER TABLE rule_set ADD COLUMN proposed_at_ms BIGINT;
        """

    static let officerMigration = Migration("2026-11-30-qualification-v2-officers") { db in
        try db.execute(
            sql: """
                CREATE TABLE officer (
                    rowid INTEGER PRIMARY KEY,
                    agency_id TEXT NOT NULL,
                    model INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    us_citizen INTEGER NOT NULL,
                    sworn_since TEXT,
                    security_clearance INTEGER NOT NULL,
                    background INTEGER NOT NULL DEFAULT 0,
                    background_on TEXT,
                    findings TEXT NOT NULL DEFAULT '',
                    pending_complaint INTEGER NOT NULL DEFAULT 0,
                    enrolled INTEGER NOT NULL DEFAULT 0,
                    status INTEGER NOT NULL,
                    certified_on TEXT,
                    rules_version TEXT,
                    disqualified_because TEXT
                );
                CREATE INDEX officer_agency ON officer (agency_id);
                CREATE TABLE exam_attempt (
                    rowid INTEGER PRIMARY KEY,
                    officer_rowid INTEGER NOT NULL REFERENCES officer (rowid),
                    exam TEXT NOT NULL,
                    score INTEGER NOT NULL,
                    taken_on TEXT NOT NULL
                );
                CREATE INDEX exam_attempt_officer ON exam_attempt (officer_rowid);
                CREATE TABLE officer_change (
                    rowid INTEGER PRIMARY KEY,
                    officer_rowid INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    who TEXT NOT NULL,
                    at_ms INTEGER NOT NULL,
                    why TEXT
                );
                """
        )
    }

    static let recurringMigration = Migration("2026-11-30-qualification-v3-recurring") { db in
        try db.execute(
            sql: """
                CREATE TABLE recurring_completion (
                    rowid INTEGER PRIMARY KEY,
                    officer_rowid INTEGER NOT NULL REFERENCES officer (rowid),
                    course TEXT NOT NULL,
                    completed_on TEXT NOT NULL
                );
                CREATE INDEX recurring_completion_officer ON recurring_completion (officer_rowid, course);
                CREATE INDEX officer_status ON officer (status);
                """
        )
    }
}
