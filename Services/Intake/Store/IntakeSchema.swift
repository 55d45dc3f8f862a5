import AccordStorage
import GRDB

/// The intake database's migrations, in order. A released migration is never edited; changes
/// come as new ones.
enum IntakeSchema {
    /// Both engines' histories.
    /// The service's own history, then the shared table of its simulated clock's moves.
    static let migrations = StorageLocation.Migrations(
        sqlite: sqlite + [SimulatedClockRecords.sqliteMigration],
        postgres: postgres + [SimulatedClockRecords.postgresMigration]
    )

    /// SQLite's history.
    static let sqlite: [Migration] = [
        Migration("2026-11-30-intake-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE agency (
                        rowid INTEGER PRIMARY KEY,
                        state TEXT NOT NULL,
                        name TEXT NOT NULL,
                        name_key TEXT NOT NULL,
                        type INTEGER NOT NULL,
                        county TEXT,
                        ori TEXT UNIQUE,
                        has_jail INTEGER,
                        jail_capacity INTEGER,
                        created_by TEXT NOT NULL, created_at_ms INTEGER NOT NULL, created_why TEXT,
                        updated_by TEXT NOT NULL, updated_at_ms INTEGER NOT NULL, updated_why TEXT,
                        UNIQUE (state, name_key)
                    );
                    CREATE TABLE request (
                        rowid INTEGER PRIMARY KEY,
                        agency_rowid INTEGER NOT NULL REFERENCES agency (rowid),
                        model INTEGER NOT NULL,
                        partner INTEGER NOT NULL,
                        consent_name TEXT, consent_office TEXT, consent_signed_on TEXT,
                        expected_encounters INTEGER, detention_capacity INTEGER, officers_proposed INTEGER,
                        status INTEGER NOT NULL,
                        revision INTEGER NOT NULL,
                        deficiencies TEXT NOT NULL DEFAULT '',
                        rules_version TEXT,
                        source TEXT NOT NULL,
                        created_by TEXT NOT NULL, created_at_ms INTEGER NOT NULL, created_why TEXT,
                        updated_by TEXT NOT NULL, updated_at_ms INTEGER NOT NULL, updated_why TEXT
                    );
                    CREATE INDEX request_agency ON request (agency_rowid);
                    CREATE INDEX request_status ON request (status);
                    -- One open request per agency, model and partner.
                    CREATE UNIQUE INDEX request_open ON request (agency_rowid, model, partner)
                        WHERE status IN (1, 2, 3, 4, 5);
                    CREATE TABLE idempotency (
                        key TEXT PRIMARY KEY,
                        request_rowid INTEGER NOT NULL REFERENCES request (rowid)
                    );
                    CREATE TABLE imported_agreement (
                        rowid INTEGER PRIMARY KEY,
                        agency_rowid INTEGER NOT NULL REFERENCES agency (rowid),
                        model INTEGER NOT NULL,
                        signed_on TEXT NOT NULL,
                        moa_link TEXT,
                        sheet TEXT NOT NULL,
                        UNIQUE (agency_rowid, model, signed_on)
                    );
                    -- Work to hand to other services, written in the same transaction as the change
                    -- that causes it, delivered later and marked delivered.
                    CREATE TABLE outbox (
                        rowid INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        -- The request ('evaluate') or imported agreement ('agreement') concerned.
                        subject_rowid INTEGER NOT NULL,
                        revision INTEGER,
                        created_at_ms INTEGER NOT NULL,
                        delivered_at_ms INTEGER
                    );
                    CREATE INDEX outbox_pending ON outbox (rowid) WHERE delivered_at_ms IS NULL;
                    -- Who changed what, when and why.
                    CREATE TABLE change_log (
                        rowid INTEGER PRIMARY KEY,
                        entity TEXT NOT NULL,
                        entity_id TEXT NOT NULL,
                        action TEXT NOT NULL,
                        who TEXT NOT NULL,
                        at_ms INTEGER NOT NULL,
                        why TEXT
                    );
                    """
            )
        },
        Migration("2026-11-30-intake-v2-engagements") { db in
            try db.execute(
                sql: """
                    CREATE TABLE engagement (
                        rowid INTEGER PRIMARY KEY,
                        state TEXT NOT NULL,
                        official_name TEXT NOT NULL,
                        office TEXT NOT NULL,
                        agency_rowid INTEGER REFERENCES agency (rowid),
                        contacted_on TEXT NOT NULL,
                        channel INTEGER NOT NULL,
                        outcome INTEGER NOT NULL,
                        follow_up_on TEXT,
                        notes TEXT,
                        created_by TEXT NOT NULL, created_at_ms INTEGER NOT NULL
                    );
                    CREATE INDEX engagement_state ON engagement (state, outcome);
                    CREATE INDEX engagement_follow_up ON engagement (follow_up_on) WHERE follow_up_on IS NOT NULL;
                    """
            )
        },
        // Lists page in row order within their filters; without these indexes SQLite read every
        // agency of a state through the (state, name_key) index and sorted them for each page.
        Migration("2026-11-30-intake-v3-list-indexes") { db in
            try db.execute(
                sql: """
                    CREATE INDEX agency_by_state ON agency (state);
                    CREATE INDEX agency_by_type ON agency (type);
                    CREATE INDEX agency_by_county ON agency (county COLLATE NOCASE);
                    CREATE INDEX agency_by_name_key ON agency (name_key);
                    """
            )
        },
        // Outbox rows are claimed by one sender at a time (several replicas may run).
        Migration("2026-12-01-intake-v4-outbox-claims") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN claimed_until_ms INTEGER")
        },
        // Every status a request has had and since when, for reports as of a moment. Requests of
        // before have two: received when submitted, and their status then from their last change.
        Migration("2026-12-01-intake-v5-request-status") { db in
            try db.execute(sql: IntakeSchema.requestStatusTable(id: "INTEGER PRIMARY KEY"))
            try db.execute(
                sql: "CREATE INDEX request_status_history_by_request ON request_status_history (request_rowid, at_ms)"
            )
            try db.execute(sql: IntakeSchema.requestStatusBackfill[0])
            try db.execute(sql: IntakeSchema.requestStatusBackfill[1])
        },
    ]

    /// The status history's table, with the row id column of the engine.
    static func requestStatusTable(id: String) -> String {
        """
        CREATE TABLE request_status_history (
            rowid \(id), request_rowid BIGINT NOT NULL REFERENCES request (rowid),
            status BIGINT NOT NULL, at_ms BIGINT NOT NULL
        )
        """
    }

    /// The history of requests recorded before it was kept: received, then their current status.
    static let requestStatusBackfill = [
        """
        INSERT INTO request_status_history (request_rowid, status, at_ms)
        SELECT rowid, 1, created_at_ms FROM request
        """,
        "INSERT INTO request_status_history (request_rowid, status, at_ms) SELECT rowid, status, updated_at_ms FROM request",
    ]
}
