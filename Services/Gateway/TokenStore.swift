public import AccordMessages
public import AccordRPC
public import AccordServiceKit
public import AccordStorage
import Crypto
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Bearer tokens: random, stored only as SHA-256 hashes, each with a role and, for agency and
/// supervisor roles, a scope. A token reads `acc_<id>_<secret>`; the id finds the row, the
/// secret's hash must match. Tokens are kept in memory too (they are few): a revocation takes
/// effect at once on the gateway that made it, and on the other gateways of a shared database
/// at their next refresh (``TokenRefresher``, every two seconds by default).
public final class TokenStore: Sendable {
    struct Entry: Sendable {
        var info: TokenInfo
        var hash: [UInt8]
        var principal: Principal
    }

    let storage: any TokenStorage
    let clock: ServiceClock
    private let cache: Mutex<[Int64: Entry]>

    /// Opens (or creates) the token database and loads every token.
    public init(storage: StorageLocation, logger: Logger, clock: ServiceClock = .system) async throws {
        self.storage = try await SQLTokenStorage(storage, logger: logger)
        self.clock = clock
        var entries: [Int64: Entry] = [:]
        for token in try await self.storage.allTokens() {
            if let entry = Self.entry(token) { entries[token.rowid] = entry }
        }
        self.cache = Mutex(entries)
    }

    /// Tokens in the SQLite file at `databasePath`.
    public convenience init(databasePath: String, logger: Logger, clock: ServiceClock = .system) async throws {
        try await self.init(storage: .sqlite(path: databasePath), logger: logger, clock: clock)
    }

    static func entry(_ token: StoredToken) -> Entry? {
        guard var principal = Principal(header: token.scope.map { "\(token.role):\($0)" } ?? token.role) else {
            return nil
        }
        principal.name = token.name
        let info = TokenInfo(
            id: "tk_\(token.rowid)",
            role: token.role,
            scope: token.scope,
            name: token.name,
            createdAtMs: token.createdAtMs,
            createdBy: token.createdBy,
            revokedAtMs: token.revokedAtMs
        )
        return Entry(info: info, hash: token.secretSHA256, principal: principal)
    }

    /// Issues a token; the secret is returned once and never stored.
    public func create(
        role: String,
        scope: String?,
        name: String,
        by creator: String
    ) async throws
        -> CreateTokenResponse
    {
        guard let roleValue = Principal.Role(rawValue: role) else {
            throw RPCError.invalidArgument(
                field: "role",
                "\"\(role)\" is not one of \(Principal.Role.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let scoped = roleValue == .agency || roleValue == .supervisor
        if scoped {
            guard let scope, !scope.isEmpty, scope.count <= 40, !scope.contains(":") else {
                throw RPCError.invalidArgument(
                    field: "scope",
                    "a \(role) token needs a scope (an agency or supervisor id)"
                )
            }
        } else if let scope, !scope.isEmpty {
            throw RPCError.invalidArgument(field: "scope", "a \(role) token takes no scope")
        }
        let trimmed = name.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw RPCError.invalidArgument(field: "name", "is required (up to 100 characters): whom the token is for")
        }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secretText = Data(secret).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let hash = Array(SHA256.hash(data: Array(secretText.utf8)))
        let stored = try await self.storage.insertToken(
            StoredToken(
                rowid: 0,
                secretSHA256: hash,
                role: role,
                scope: scoped ? scope : nil,
                name: trimmed,
                createdAtMs: self.clock.now(),
                createdBy: creator
            )
        )
        let entry = Self.entry(stored)!
        self.cache.withLock { $0[stored.rowid] = entry }
        return CreateTokenResponse(info: entry.info, token: "acc_\(stored.rowid)_\(secretText)")
    }

    public func list(includeRevoked: Bool) -> [TokenInfo] {
        self.cache.withLock { cache in
            cache.sorted { $0.key < $1.key }.map(\.value.info).filter { includeRevoked || $0.revokedAtMs == nil }
        }
    }

    public func revoke(id: String) async throws -> TokenInfo {
        guard id.hasPrefix("tk_"), let rowid = Int64(id.dropFirst(3)) else {
            throw RPCError.invalidArgument(field: "token_id", "\"\(id)\" is not a token id (tk_N)")
        }
        let revoked = try await self.storage.revokeToken(rowid: rowid, at: self.clock.now())
        let row = revoked.flatMap(Self.entry)
        guard let entry = row else { throw RPCError(.notFound, "token \(id) not found") }
        self.cache.withLock { $0[rowid] = entry }
        return entry.info
    }

    /// Reloads every token from the storage, so that tokens created or revoked through another
    /// gateway on the same PostgreSQL database take effect here too.
    public func refresh() async throws {
        var entries: [Int64: Entry] = [:]
        for token in try await self.storage.allTokens() {
            if let entry = Self.entry(token) { entries[token.rowid] = entry }
        }
        self.cache.withLock { $0 = entries }
        self.lastRefresh.withLock { $0 = .now }
    }

    /// When the cache was last reloaded, so that unknown ids reload it at most every quarter second.
    private let lastRefresh = Mutex<ContinuousClock.Instant?>(nil)

    /// The principal of a bearer token, or UNAUTHENTICATED saying why not. A token id this
    /// gateway has not seen (made through another gateway) reloads the tokens first.
    public func authenticate(_ token: String) async throws -> Principal {
        let parts = token.split(separator: "_", maxSplits: 2)
        guard parts.count == 3, parts[0] == "acc", let rowid = Int64(parts[1]) else {
            throw RPCError(.unauthenticated, "the bearer token is not an Accord token")
        }
        if self.cache.withLock({ $0[rowid] }) == nil,
            self.lastRefresh.withLock({ $0.map { ContinuousClock.now - $0 > .milliseconds(250) } ?? true })
        {
            try await self.refresh()
        }
        let presented = Array(SHA256.hash(data: Array(parts[2].utf8)))
        guard let entry = self.cache.withLock({ $0[rowid] }), Self.equal(entry.hash, presented) else {
            throw RPCError(.unauthenticated, "the bearer token is not valid")
        }
        guard entry.info.revokedAtMs == nil else {
            throw RPCError(.unauthenticated, "the bearer token was revoked")
        }
        return entry.principal
    }

    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// Authenticates every call but health by its bearer token (`authorization: Bearer …`) and
/// establishes the token's principal for the handlers.
public struct BearerAuthenticator: ServerInterceptor {
    let tokens: TokenStore

    public init(tokens: TokenStore) {
        self.tokens = tokens
    }

    public func intercept<Result: Sendable>(
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Result
    ) async throws -> Result {
        if context.method.hasPrefix("/accord.v1.Health/") { return try await next(context) }
        guard let header = context.metadata[MetadataKey.authorization] else {
            throw RPCError(.unauthenticated, "the call carries no bearer token (authorization: Bearer <token>)")
        }
        guard header.hasPrefix("Bearer ") else {
            throw RPCError(.unauthenticated, "the authorization metadata is not \"Bearer <token>\"")
        }
        let principal = try await self.tokens.authenticate(String(header.dropFirst("Bearer ".count)))
        var context = context
        context.setPrincipal(principal)
        return try await next(context)
    }
}

/// Reloads the gateway's tokens periodically, so that revocations made through another gateway
/// on the same database take effect here within `interval`.
public struct TokenRefresher: Service {
    let tokens: TokenStore
    let interval: Duration
    let logger: Logger

    public init(tokens: TokenStore, interval: Duration = .seconds(2), logger: Logger) {
        self.tokens = tokens
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                do {
                    try await self.tokens.refresh()
                } catch {
                    self.logger.warning("Tokens could not be reloaded", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
