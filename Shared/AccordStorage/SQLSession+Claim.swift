extension SQLSession {
    /// Claims outbox rows for one sender: up to `limit` rows of `table` that `pending` selects and
    /// no sender holds (its `claimed_until_ms` is unset or past), oldest first, each held until
    /// `now + lease` ms. Returns their row ids in order.
    ///
    /// On PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`, so that replicas
    /// claiming at once take different rows; a replica that dies holding rows leaves them to the
    /// others when its lease runs out. SQLite has one writer, which claims alone.
    public func claim(
        _ table: String,
        pending: String,
        _ arguments: SQLArguments = [],
        now: Int64,
        lease: Int64,
        limit: Int
    ) throws -> [Int64] {
        let skipLocked = self.dialect == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        let rowids = try self.values(
            Int64.self,
            """
            UPDATE \(table) SET claimed_until_ms = ? WHERE rowid IN (
                SELECT rowid FROM \(table) WHERE (\(pending)) AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?)
                ORDER BY rowid LIMIT ? \(skipLocked)
            ) RETURNING rowid
            """,
            [now + lease] + arguments + [now, limit]
        )
        return rowids.sorted()
    }

    /// Claims rows as ``claim(_:pending:_:now:lease:limit:)`` does, then reads them: `select`
    /// gets the placeholders of an `IN (…)` list that the claimed row ids fill. No rows when
    /// nothing was claimed.
    public func claimRows(
        _ table: String,
        pending: String,
        now: Int64,
        lease: Int64,
        limit: Int,
        select: (_ placeholders: String) -> String
    ) throws -> [SQLRow] {
        let claimed = try self.claim(table, pending: pending, now: now, lease: lease, limit: limit)
        guard !claimed.isEmpty else { return [] }
        return try self.rows(select(SQLArguments.placeholders(claimed.count)), SQLArguments(claimed))
    }

    /// Gives claimed rows back (a sender that could not deliver them), for any sender to take.
    public func release(_ table: String, _ rowids: [Int64]) throws {
        guard !rowids.isEmpty else { return }
        let marks = SQLArguments.placeholders(rowids.count)
        try self.execute("UPDATE \(table) SET claimed_until_ms = NULL WHERE rowid IN (\(marks))", SQLArguments(rowids))
    }
}

extension SQLSession {
    /// Takes (or keeps) the turn at periodic work `job` for `lease` ms: granted when nobody holds
    /// it, `holder` holds it already, or the last holder's lease ran out (it died or stopped).
    /// Needs the service's `periodic_lease` table. Returns whether `holder` has the turn now.
    public func takeTurn(_ job: String, holder: String, now: Int64, lease: Int64) throws -> Bool {
        let granted = try self.rows(
            """
            INSERT INTO periodic_lease (name, holder, until_ms) VALUES (?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
            WHERE periodic_lease.holder = excluded.holder OR periodic_lease.until_ms <= ?
            RETURNING holder
            """,
            [job, holder, now + lease, now]
        )
        return !granted.isEmpty
    }
}

extension SQLSession {
    /// Locks one row until the transaction ends, before reading it to change it, so that a
    /// concurrent writer of the same row waits and then sees this one's change. PostgreSQL only:
    /// SQLite has one writer at a time anyway.
    public func lockRow(_ table: String, _ rowid: Int64) throws {
        guard self.dialect == .postgres else { return }
        _ = try self.rows("SELECT 1 FROM \"\(table)\" WHERE rowid = ? FOR UPDATE", [rowid])
    }
}
