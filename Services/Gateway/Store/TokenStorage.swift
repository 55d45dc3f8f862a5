/// A bearer token as stored: the hash of its secret, never the secret.
struct StoredToken: Sendable {
    var rowid: Int64
    var secretSHA256: [UInt8]
    var role: String
    var scope: String?
    var name: String
    var createdAtMs: Int64
    var createdBy: String
    var revokedAtMs: Int64?
    var expiresAtMs: Int64?
    var lastUsedAtMs: Int64?
}

/// Where the gateway keeps its tokens. SQLite implements it (``SQLTokenStorage``).
protocol TokenStorage: Sendable {
    /// Every token, revoked ones too.
    func allTokens() async throws -> [StoredToken]
    /// One token by its row id.
    func token(rowid: Int64) async throws -> StoredToken?
    /// Stores a new token (its `rowid` is ignored) and returns it with the id it was given.
    func insertToken(_ token: StoredToken) async throws -> StoredToken
    /// Marks a token revoked at `moment`, unless it was already; nil when there is no such token.
    func revokeToken(rowid: Int64, at moment: Int64) async throws -> StoredToken?
    /// Records when tokens were last used (row id → Unix milliseconds), never moving one back.
    func recordUse(_ uses: [Int64: Int64]) async throws
}
