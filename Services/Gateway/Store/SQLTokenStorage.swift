import AccordStorage
import Foundation
import Logging

/// The gateway's tokens, over the SQL both engines run: every gateway on one PostgreSQL shares them.
final class SQLTokenStorage: TokenStorage {
    let database: any SQLDatabase

    init(_ location: StorageLocation, logger: Logger) async throws {
        self.database = try await location.open(TokenSchema.migrations, logger: logger)
    }

    private static func token(_ row: SQLRow) -> StoredToken {
        StoredToken(
            rowid: row["rowid"],
            secretSHA256: row["secret_sha256"],
            role: row["role"],
            scope: row["scope"],
            name: row["name"],
            createdAtMs: row["created_at_ms"],
            createdBy: row["created_by"],
            revokedAtMs: row["revoked_at_ms"],
            expiresAtMs: row["expires_at_ms"],
            lastUsedAtMs: row["last_used_at_ms"]
        )
    }

    func allTokens() async throws -> [StoredToken] {
        try await self.database.read { db in try db.rows("SELECT * FROM token").map(Self.token) }
    }

    func token(rowid: Int64) async throws -> StoredToken? {
        try await self.database.read { db in try db.row("SELECT * FROM token WHERE rowid = ?", [rowid]).map(Self.token)
        }
    }

    func insertToken(_ token: StoredToken) async throws -> StoredToken {
        try await self.database.write { db in
            let rowid = try db.value(
                Int64.self,
                """
                INSERT INTO token (secret_sha256, role, scope, name, created_at_ms, created_by, expires_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING rowid
                """,
                [
                    token.secretSHA256, token.role, token.scope, token.name, token.createdAtMs, token.createdBy,
                    token.expiresAtMs,
                ]
            )!
            var stored = token
            stored.rowid = rowid
            return stored
        }
    }

    func revokeToken(rowid: Int64, at moment: Int64) async throws -> StoredToken? {
        try await self.database.write { db in
            try db.row(
                "UPDATE token SET revoked_at_ms = coalesce(revoked_at_ms, ?) WHERE rowid = ? RETURNING *",
                [moment, rowid]
            ).map(Self.token)
        }
    }

    func recordUse(_ uses: [Int64: Int64]) async throws {
        guard !uses.isEmpty else { return }
        try await self.database.write { db in
            for (rowid, moment) in uses.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    "UPDATE token SET last_used_at_ms = ? WHERE rowid = ? AND coalesce(last_used_at_ms, 0) < ?",
                    [moment, rowid, moment]
                )
            }
        }
    }
}
