import AccordCalendar
public import AccordMessages
public import AccordRPC
public import AccordServiceKit
public import AccordStorage
import AccordWire
import Crypto
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Bearer tokens: random, stored only as SHA-256 hashes, each with a role and, for agency and
/// supervisor roles, a scope. A token reads `acc_<id>_<secret>`; the id finds the row, the
/// secret's hash must match. Tokens are kept in memory too (they are few): a revocation takes
/// effect at once on the gateway that made it, and on the other gateways of a shared database
/// at their next refresh (``TokenRefresher``, every half second by default); a token id not
/// seen yet reloads them at once. Tokens expire (90 days unless told otherwise); when each was
/// last used is noted to the minute and written at the refreshes.
public final class TokenStore: Sendable {
    struct Entry: Sendable {
        var info: TokenInfo
        var hash: [UInt8]
        var principal: Principal
        /// `principal.header`, made once.
        var header: String
        /// The secret, once a call presented it and its hash matched: later calls compare with
        /// it instead of hashing again (the gateway sees every secret in its calls anyway).
        var verified: [UInt8]? = nil
    }

    let storage: any TokenStorage
    let clock: ServiceClock
    private let cache: Mutex<[Int64: Entry]>
    /// Uses not yet written: row id → when (noted at most once a minute per token).
    private let uses = Mutex<[Int64: Int64]>([:])

    /// How long a token lives unless its creator says otherwise.
    public static let defaultLifetimeSeconds: Int64 = 90 * 86_400

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
            revokedAtMs: token.revokedAtMs,
            expiresAtMs: token.expiresAtMs,
            lastUsedAtMs: token.lastUsedAtMs
        )
        return Entry(info: info, hash: token.secretSHA256, principal: principal, header: principal.header)
    }

    /// Issues a token; the secret is returned once and never stored.
    public func create(
        role: String,
        scope: String?,
        name: String,
        expiresInSeconds: Int64? = nil,
        by creator: String
    ) async throws
        -> CreateTokenResponse
    {
        let lifetime = expiresInSeconds ?? Self.defaultLifetimeSeconds
        guard (0...(10 * 366 * 86_400)).contains(lifetime) else {
            throw RPCError.invalidArgument(
                field: "expires_in_seconds",
                "\(lifetime) is not between 0 (never expires) and ten years in seconds"
            )
        }
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
                createdBy: creator,
                expiresAtMs: lifetime == 0 ? nil : self.clock.now() + lifetime * 1000
            )
        )
        let entry = Self.entry(stored)!
        self.cache.withLock { $0[stored.rowid] = entry }
        return CreateTokenResponse(info: entry.info, token: "acc_\(stored.rowid)_\(secretText)")
    }

    public func list(includeRevoked: Bool) -> [TokenInfo] {
        let pending = self.uses.withLock { $0 }
        return self.cache.withLock { cache in
            cache.sorted { $0.key < $1.key }.compactMap { rowid, entry -> TokenInfo? in
                guard includeRevoked || entry.info.revokedAtMs == nil else { return nil }
                var info = entry.info
                if let used = pending[rowid], used > info.lastUsedAtMs ?? 0 { info.lastUsedAtMs = used }
                return info
            }
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
        let pending = self.uses.withLock { uses in
            defer { uses.removeAll() }
            return uses
        }
        do {
            try await self.storage.recordUse(pending)
        } catch {
            self.uses.withLock { uses in uses.merge(pending) { max($0, $1) } }  // written next time
            throw error
        }
        var entries: [Int64: Entry] = [:]
        for token in try await self.storage.allTokens() {
            if let entry = Self.entry(token) { entries[token.rowid] = entry }
        }
        self.cache.withLock { $0 = entries }
    }

    /// What checking a token against the tokens in memory found.
    public enum CachedCheck: Sendable {
        /// Valid: its principal, and the principal's header (made once per token).
        case valid(Principal, header: String)
        case refused(RPCError)
        /// Its id is not among the tokens in memory: ``authenticate(_:)`` looks it up.
        case unseen
    }

    /// The principal of a bearer token, or UNAUTHENTICATED saying why not. A token id this
    /// gateway has not seen (made through another gateway, or by `create-token`) is looked up in
    /// the store first.
    public func authenticate(_ token: String) async throws -> Principal {
        switch self.check(token[...]) {
        case .valid(let principal, _): return principal
        case .refused(let error): throw error
        case .unseen: break
        }
        if let (rowid, _) = Self.parse(token[...]), let stored = try await self.storage.token(rowid: rowid),
            let entry = Self.entry(stored)
        {
            self.cache.withLock { $0[rowid] = entry }
        }
        switch self.check(token[...]) {
        case .valid(let principal, _): return principal
        case .refused(let error): throw error
        case .unseen: throw RPCError(.unauthenticated, "the bearer token is not valid")
        }
    }

    /// Checks a bearer token against the tokens in memory, without waiting.
    public func check(_ token: Substring) -> CachedCheck {
        guard let (rowid, secret) = Self.parse(token) else {
            return .refused(RPCError(.unauthenticated, "the bearer token is not an Accord token"))
        }
        guard let entry = self.cache.withLock({ $0[rowid] }) else { return .unseen }
        if let verified = entry.verified {
            guard Self.equal(verified, secret) else {
                return .refused(RPCError(.unauthenticated, "the bearer token is not valid"))
            }
        } else {
            let presented = Array(secret)
            guard Self.equal(entry.hash, Array(SHA256.hash(data: presented))) else {
                return .refused(RPCError(.unauthenticated, "the bearer token is not valid"))
            }
            self.cache.withLock { $0[rowid]?.verified = presented }
        }
        guard entry.info.revokedAtMs == nil else {
            return .refused(RPCError(.unauthenticated, "the bearer token was revoked"))
        }
        let now = self.clock.now()
        if let expires = entry.info.expiresAtMs, expires <= now {
            return .refused(
                RPCError(
                    .unauthenticated,
                    "the bearer token \(entry.info.id ?? "") expired at \(Moment.text(expires)): ask an operator for a new one"
                )
            )
        }
        self.noteUse(rowid, entry, at: now)
        return .valid(entry.principal, header: entry.header)
    }

    /// The row id and the secret of `acc_<id>_<secret>`, nil for anything else.
    static func parse(_ token: Substring) -> (rowid: Int64, secret: Substring.UTF8View)? {
        let utf8 = token.utf8
        // The row id is read from the bytes directly: this runs for every call.
        let parsed: (rowid: Int64, secretOffset: Int)?? = utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.count > 5, bytes[0] == UInt8(ascii: "a"), bytes[1] == UInt8(ascii: "c"),
                bytes[2] == UInt8(ascii: "c"), bytes[3] == UInt8(ascii: "_")
            else { return nil }
            var rowid: Int64 = 0
            var index = 4
            while index < bytes.count, bytes[index] != UInt8(ascii: "_") {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10, index < 22 else { return nil }
                rowid = rowid * 10 + Int64(digit)
                index += 1
            }
            guard index > 4, index < bytes.count else { return nil }
            return (rowid, index + 1)
        }
        switch parsed {
        case .some(.some(let parsed)):
            return (parsed.rowid, utf8[utf8.index(utf8.startIndex, offsetBy: parsed.secretOffset)...])
        case .some(.none):
            return nil
        case .none:
            guard utf8.starts(with: "acc_".utf8) else { return nil }
            let digits = utf8.index(utf8.startIndex, offsetBy: 4)
            guard let underscore = utf8[digits...].firstIndex(of: UInt8(ascii: "_")),
                let rowid = Int64(Substring(utf8[digits..<underscore]))
            else { return nil }
            return (rowid, Substring(utf8[utf8.index(after: underscore)...]).utf8)
        }
    }

    /// Notes a use, at most once a minute per token (the hot path takes one lock, rarely a write).
    private func noteUse(_ rowid: Int64, _ entry: Entry, at now: Int64) {
        let minute = now - now % 60_000
        guard (entry.info.lastUsedAtMs ?? 0) < minute else { return }
        self.uses.withLock { uses in
            if (uses[rowid] ?? 0) < minute { uses[rowid] = minute }
        }
    }

    /// Compares in time that depends on the lengths only.
    private static func equal(_ a: [UInt8], _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        if let equal = b.withContiguousStorageIfAvailable({ b in
            a.withUnsafeBufferPointer { a in
                var difference: UInt8 = 0
                for index in 0..<a.count { difference |= a[index] ^ b[index] }
                return difference == 0
            }
        }) {
            return equal
        }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// Authenticates every call but health by its bearer token (`authorization: Bearer …`), holds
/// the token's role to the ``AccessPolicy`` matrix and establishes its principal for the handlers.
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
        let principal = try await self.tokens.authenticate(String(try Self.bearerToken(context.metadata)))
        try AccessPolicy.require(principal, calling: context.method)
        var context = context
        context.setPrincipal(principal)
        return try await next(context)
    }

    /// The token of `authorization: Bearer <token>`, or UNAUTHENTICATED saying what is wrong.
    static func bearerToken(_ metadata: Metadata) throws(RPCError) -> Substring {
        guard let header = metadata[MetadataKey.authorization] else {
            throw RPCError(.unauthenticated, "the call carries no bearer token (authorization: Bearer <token>)")
        }
        guard header.hasPrefix("Bearer ") else {
            throw RPCError(.unauthenticated, "the authorization metadata is not \"Bearer <token>\"")
        }
        return header.dropFirst("Bearer ".count)
    }
}

/// Reloads the gateway's tokens periodically, so that revocations made through another gateway
/// (or by `accord-gateway create-token` on the same database) take effect here within
/// `interval`, and writes the uses noted since the last time.
public struct TokenRefresher: Service {
    let tokens: TokenStore
    let interval: Duration
    let logger: Logger

    public init(tokens: TokenStore, interval: Duration = .milliseconds(500), logger: Logger) {
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
