public import AccordStorage
import Crypto
import Foundation
import GRDB

/// The tamper-evident audit trail: every change to a supervision record appends an entry that
/// holds the SHA-256 of the record after the change and the hash of the entry before it, over a
/// canonical encoding (who, when, what, why). ``verify(_:)`` walks the chain and recomputes every
/// record's hash, so changing any stored byte — of an entry or of a record — is found, and the
/// first place where it no longer matches is named.
public enum AuditTrail {
    /// The tables whose every row is audited, and the prefix of their public ids ("" = rowid).
    public static let tables: [(name: String, prefix: String)] = [
        ("agreement", "mo"), ("agreement_status", ""), ("addendum", ""), ("supervisor", "sv"),
        ("authorization", "az"), ("authorization_suspension", ""), ("certification", ""), ("action", "ac"),
        ("complaint", "cp"), ("inspection", "in"), ("meeting", "mt"), ("supervisor_assignment", ""),
    ]

    static let prefixes = Dictionary(uniqueKeysWithValues: Self.tables.map { ($0.name, $0.prefix) })

    public static let migration = """
        CREATE TABLE audit (
            sequence INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            who TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            action TEXT NOT NULL,
            why TEXT,
            state_hash TEXT NOT NULL,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_entity ON audit (entity, entity_id);
        """

    /// The hash before the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    public static func entityID(table: String, rowid: Int64) -> String {
        let prefix = Self.prefixes[table] ?? ""
        return prefix.isEmpty ? String(rowid) : "\(prefix)_\(rowid)"
    }

    static func rowid(table: String, entityID: String) -> Int64? {
        let prefix = Self.prefixes[table] ?? ""
        return prefix.isEmpty ? Int64(entityID) : Int64(entityID.dropFirst(prefix.count + 1))
    }

    /// Appends the entry for a change of one row (read as it now stands, inside the transaction).
    /// One chain however many replicas write: supervision's writers take turns (on PostgreSQL,
    /// under the database's writer lock until their commit), so each append reads the head the
    /// one before left, and a second entry with the same sequence would break its primary key.
    public static func record(
        _ db: any SQLSession,
        table: String,
        rowid: Int64,
        action: String,
        who: String,
        why: String?,
        at: Int64,
        happenedAt: Int64? = nil
    ) throws {
        let state = try Self.stateHash(db, table: table, rowid: rowid) ?? ""
        let last = try db.row("SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1")
        let sequence = (last?["sequence"] as Int64? ?? 0) + 1
        let previous: String = last?["hash"] ?? Self.genesis
        let entityID = Self.entityID(table: table, rowid: rowid)
        let hash = Self.entryHash(
            sequence: sequence,
            at: at,
            who: who,
            entity: table,
            entityID: entityID,
            action: action,
            why: why,
            happenedAt: happenedAt,
            stateHash: state,
            previousHash: previous
        )
        if let happenedAt {
            try db.execute(
                """
                INSERT INTO audit (sequence, at_ms, who, entity, entity_id, action, why, happened_at_ms, state_hash,
                    previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [sequence, at, who, table, entityID, action, why, happenedAt, state, previous, hash]
            )
            return
        }
        // Without the column, which migrations before it (writing entries of their own) do not have.
        try db.execute(
            """
            INSERT INTO audit (sequence, at_ms, who, entity, entity_id, action, why, state_hash, previous_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [sequence, at, who, table, entityID, action, why, state, previous, hash]
        )
    }

    // MARK: Canonical encodings

    /// SHA-256 (hex) of an entry's fields, each written as its byte count, a colon and its bytes;
    /// an absent `why` is written as "-"; `happenedAt`, when present, follows it as
    /// "happened_at:" and its milliseconds (entries without it hash as they always did).
    static func entryHash(
        sequence: Int64,
        at: Int64,
        who: String,
        entity: String,
        entityID: String,
        action: String,
        why: String?,
        happenedAt: Int64? = nil,
        stateHash: String,
        previousHash: String
    ) -> String {
        var bytes = Array("accord-audit-v1\n".utf8)
        for field in [String(sequence), String(at), who, entity, entityID, action] {
            Self.append(field, to: &bytes)
        }
        if let why { Self.append(why, to: &bytes) } else { bytes.append(UInt8(ascii: "-")) }
        if let happenedAt { Self.append("happened_at:\(happenedAt)", to: &bytes) }
        Self.append(stateHash, to: &bytes)
        Self.append(previousHash, to: &bytes)
        return Self.hex(SHA256.hash(data: bytes))
    }

    private static func append(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8)
        bytes.append(contentsOf: Array(String(utf8.count).utf8))
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// SHA-256 (hex) of a row as stored: every non-NULL column in table order with its name,
    /// storage class and value. NULL columns are left out, so that a column added by a later
    /// migration (NULL in old rows) leaves the hashes of old rows as they were. Nil when the row
    /// does not exist.
    static func stateHash(_ db: any SQLSession, table: String, rowid: Int64) throws -> String? {
        guard let row = try db.row("SELECT * FROM \"\(table)\" WHERE rowid = ?", [rowid]) else {
            return nil
        }
        return Self.stateHash(table: table, row: row)
    }

    static func stateHash(table: String, row: SQLRow) -> String {
        var bytes = Array("\(table)\n".utf8)
        for (column, value) in row.pairs {
            if value.isNull { continue }
            Self.append(column, to: &bytes)
            switch value {
            case .null: continue
            case .integer(let int): Self.append("i\(int)", to: &bytes)
            case .real(let double): Self.append("r\(double.bitPattern)", to: &bytes)
            case .text(let string): Self.append("t\(string)", to: &bytes)
            case .blob(let data):
                bytes.append(UInt8(ascii: "b"))
                Self.append(data.map { String(format: "%02x", $0) }.joined(), to: &bytes)
            }
        }
        return Self.hex(SHA256.hash(data: bytes))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Verification

    public struct Verdict: Sendable, Equatable {
        public var intact: Bool
        public var entriesChecked: UInt64
        public var recordsChecked: UInt64
        /// "audit entry 42" or "action ac_17".
        public var firstBad: String?
        public var problem: String?
        public var headHash: String
    }

    /// Why a database file could not be verified at all.
    public struct FileError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Verifies the supervision database at `path` (a copy will do), opened read-only.
    public static func verify(databaseAt path: String) throws -> Verdict {
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw FileError(description: "cannot open \(path): \(error)")
        }
        return try queue.read { db in
            guard try db.tableExists("audit") else {
                throw FileError(description: "\(path) is not a supervision database (no audit table)")
            }
            return try Self.verify(SQLiteSession(db))
        }
    }

    /// The first mismatch found, which ends a verification.
    private struct Mismatch: Error {
        let place: String
        let problem: String
    }

    /// Walks the whole chain, then every audited record. Stops at the first mismatch.
    public static func verify(_ db: any SQLSession) throws -> Verdict {
        var verdict = Verdict(intact: true, entriesChecked: 0, recordsChecked: 0, headHash: Self.genesis)
        do {
            let latest = try Self.verifyChain(db, &verdict)
            for table in Self.tables {
                try Self.verifyRecords(db, table: table.name, states: latest[table.name] ?? [:], &verdict)
            }
        } catch let mismatch as Mismatch {
            verdict.intact = false
            verdict.firstBad = mismatch.place
            verdict.problem = mismatch.problem
        }
        return verdict
    }

    /// Checks every entry against the one before it; returns the latest state hash of every
    /// record the chain speaks of, by table and id.
    private static func verifyChain(_ db: any SQLSession, _ verdict: inout Verdict) throws -> [String: [String: String]]
    {
        var latest: [String: [String: String]] = [:]
        var expected: Int64 = 1
        var previous = Self.genesis
        try db.forEach("SELECT * FROM audit ORDER BY sequence", []) { row in
            let sequence: Int64 = row["sequence"]
            guard sequence == expected else {
                throw Mismatch(
                    place: "audit entry \(expected)",
                    problem: "missing: the next entry stored is \(sequence)"
                )
            }
            let previousHash: String = row["previous_hash"]
            guard previousHash == previous else {
                throw Mismatch(
                    place: "audit entry \(sequence)",
                    problem: "its previous_hash does not match the entry before it"
                )
            }
            let hash = Self.entryHash(
                sequence: sequence,
                at: row["at_ms"],
                who: row["who"],
                entity: row["entity"],
                entityID: row["entity_id"],
                action: row["action"],
                why: row["why"],
                happenedAt: row["happened_at_ms"],
                stateHash: row["state_hash"],
                previousHash: previousHash
            )
            guard hash == (row["hash"] as String) else {
                throw Mismatch(place: "audit entry \(sequence)", problem: "its contents do not match its hash")
            }
            latest[row["entity"] as String, default: [:]][row["entity_id"] as String] = row["state_hash"]
            previous = hash
            expected += 1
            verdict.entriesChecked += 1
        }
        verdict.headHash = previous
        return latest
    }

    /// Checks every record of an audited table against the state its last entry records.
    private static func verifyRecords(
        _ db: any SQLSession,
        table: String,
        states: [String: String],
        _ verdict: inout Verdict
    ) throws {
        var states = states
        // Every audited table declares `rowid INTEGER PRIMARY KEY`, so `*` includes it.
        try db.forEach("SELECT * FROM \"\(table)\" ORDER BY rowid", []) { record in
            let id = Self.entityID(table: table, rowid: record["rowid"])
            guard let recorded = states.removeValue(forKey: id), !recorded.isEmpty else {
                throw Mismatch(place: "\(table) \(id)", problem: "no audit entry records it")
            }
            guard Self.stateHash(table: table, row: record) == recorded else {
                throw Mismatch(
                    place: "\(table) \(id)",
                    problem: "it differs from the state its last audit entry records"
                )
            }
            verdict.recordsChecked += 1
        }
        let missing = states.filter { !$0.value.isEmpty }.keys.sorted {
            (Self.rowid(table: table, entityID: $0) ?? 0) < (Self.rowid(table: table, entityID: $1) ?? 0)
        }
        if let first = missing.first {
            throw Mismatch(place: "\(table) \(first)", problem: "the audit trail records it but it is not stored")
        }
    }
}
