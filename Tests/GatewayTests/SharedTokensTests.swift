import AccordRPC
import AccordServiceKit
import AccordTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import Gateway

@Suite("Tokens shared by every gateway on one store", .timeLimit(.minutes(1)))
struct SharedTokensTests {
    @Test("a token made through one gateway works at another; revoked through one, refused at both")
    func sharedTokens() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-tokens-\(UUID().uuidString)/g.sqlite"
        ).path
        var logger = Logger(label: "test.tokens")
        logger.logLevel = .critical
        let first = try await TokenStore(storage: try await TestStorage.location(file: file), logger: logger)
        let second = try await TokenStore(storage: try await TestStorage.location(file: file), logger: logger)
        let made = try await first.create(role: "auditor", scope: nil, name: "shared auditor", by: "test")
        let token = try #require(made.token)
        // The second gateway has never seen it: an unknown id makes it look in the store.
        #expect(try await second.authenticate(token).role == .auditor)
        _ = try await first.revoke(id: made.info!.id!)
        await #expect(throws: RPCError(.unauthenticated, "the bearer token was revoked")) {
            try await first.authenticate(token)
        }
        // The second still holds the token as it was until it reloads (TokenRefresher does that
        // every half second in the gateway).
        try await second.refresh()
        await #expect(throws: RPCError(.unauthenticated, "the bearer token was revoked")) {
            try await second.authenticate(token)
        }
        #expect(second.list(includeRevoked: false).allSatisfy { $0.id != made.info?.id })
    }

    @Test("tokens expire: 90 days unless told, never when told 0; an expired token is refused saying so")
    func expiry() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-tokens-\(UUID().uuidString)/g.sqlite"
        ).path
        var logger = Logger(label: "test.tokens")
        logger.logLevel = .critical
        let moment = Mutex<Int64>(1_780_315_200_000)
        let clock = ServiceClock { moment.withLock { $0 } }
        let tokens = try await TokenStore(
            storage: try await TestStorage.location(file: file),
            logger: logger,
            clock: clock
        )
        let start = clock.now()
        let standard = try await tokens.create(role: "auditor", scope: nil, name: "a", by: "test")
        #expect(standard.info?.expiresAtMs == start + 90 * 86_400_000)
        let forever = try await tokens.create(role: "operator", scope: nil, name: "b", expiresInSeconds: 0, by: "test")
        #expect(forever.info?.expiresAtMs == nil)
        let brief = try await tokens.create(role: "auditor", scope: nil, name: "c", expiresInSeconds: 60, by: "test")
        #expect(try await tokens.authenticate(brief.token!).role == .auditor)
        moment.withLock { $0 += 61_000 }
        do {
            _ = try await tokens.authenticate(brief.token!)
            Issue.record("an expired token was taken")
        } catch let error as RPCError {
            #expect(error.code == .unauthenticated && error.message.contains("expired at"), "\(error)")
        }
        #expect(try await tokens.authenticate(forever.token!).role == .operator)
        do {
            _ = try await tokens.create(role: "auditor", scope: nil, name: "d", expiresInSeconds: -5, by: "test")
            Issue.record("a negative lifetime was taken")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.message.contains("expires_in_seconds"), "\(error)")
        }
    }

    @Test("last use is noted to the minute, listed at once and written to the store at the next refresh")
    func lastUse() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-tokens-\(UUID().uuidString)/g.sqlite"
        ).path
        var logger = Logger(label: "test.tokens")
        logger.logLevel = .critical
        let moment = Mutex<Int64>(1_780_315_200_000 + 42_000)
        let clock = ServiceClock { moment.withLock { $0 } }
        let first = try await TokenStore(
            storage: try await TestStorage.location(file: file),
            logger: logger,
            clock: clock
        )
        let made = try await first.create(role: "auditor", scope: nil, name: "a", by: "test")
        #expect(first.list(includeRevoked: false).first?.lastUsedAtMs == nil)
        _ = try await first.authenticate(made.token!)
        let minute: Int64 = 1_780_315_200_000
        #expect(first.list(includeRevoked: false).first?.lastUsedAtMs == minute)
        let second = try await TokenStore(
            storage: try await TestStorage.location(file: file),
            logger: logger,
            clock: clock
        )
        #expect(second.list(includeRevoked: false).first?.lastUsedAtMs == nil, "not written yet")
        try await first.refresh()
        try await second.refresh()
        #expect(second.list(includeRevoked: false).first?.lastUsedAtMs == minute)
    }
}

@Suite("Ejection of an endpoint for its own transport failures")
struct EjectionTests {
    @Test(
        "out for a second, twice as long each time it fails again soon, at most 30 s; a passing check does not end it early"
    )
    func boundedGrowingEjection() {
        var state = BackendPool.Member.State()
        state.set(.healthy, at: 0)
        state.eject("connection reset", at: 10_000)
        #expect(state.ejectedUntil == 11_000 && state.outSince == 10_000)
        state.set(.healthy, at: 10_500)
        #expect(state.health != .healthy, "a passing check during the ejection does not bring it back")
        state.set(.healthy, at: 11_000)
        #expect(state.health == .healthy && state.outSince == nil)
        state.eject("connection reset", at: 12_000)
        #expect(state.ejectedUntil == 14_000, "failing again soon after: twice as long")
        state.set(.healthy, at: 14_000)
        state.eject("connection reset", at: 14_100)
        #expect(state.ejectedUntil == 18_100)
        for _ in 0..<10 {
            let now = state.ejectedUntil!
            state.set(.healthy, at: now)
            state.eject("connection reset", at: now + 1)
        }
        let last = state.ejectedUntil! - (state.outSince ?? 0)
        #expect(last == 30_000, "at most 30 s, got \(last)")
        // Back for 30 s: the next ejection is short again.
        let back = state.ejectedUntil!
        state.set(.healthy, at: back)
        state.eject("connection refused", at: back + 30_000)
        #expect(state.ejectedUntil == back + 31_000)
        if case .unhealthy(let reason) = state.health {
            #expect(reason.contains("connection refused") && reason.contains("out until"), "\(reason)")
        } else {
            Issue.record("not out after an ejection")
        }
    }
}

@Suite("Outlier detection")
struct OutlierTests {
    static func pool(_ count: Int) -> BackendPool {
        BackendPool(
            service: "intake",
            endpoints: (0..<count).map { Endpoint(host: "127.0.0.1", port: 1 + $0) },
            maxInFlight: 8,
            logger: Logger(label: "test")
        )
    }

    static func out(_ member: BackendPool.Member) -> Bool {
        member.state.withLock { ($0.ejectedUntil ?? 0) > ServiceClock.realTime() }
    }

    @Test("three transport failures in a row eject an endpoint; an answer in between starts the count again")
    func consecutiveFailures() {
        let pool = Self.pool(2)
        let member = pool.members[0]
        pool.transportFailed(member, "connection reset")
        pool.transportFailed(member, "connection reset")
        pool.answered(member)
        pool.transportFailed(member, "connection reset")
        pool.transportFailed(member, "connection reset")
        #expect(!Self.out(member), "two failures since the last answer do not eject")
        pool.transportFailed(member, "connection reset")
        #expect(Self.out(member))
    }

    @Test("at most half of the endpoints (at least one) are ejected at once")
    func ejectionShare() {
        let two = Self.pool(2)
        for member in two.members { for _ in 0..<3 { two.transportFailed(member, "connection refused") } }
        #expect(two.members.filter(Self.out).count == 1)
        let four = Self.pool(4)
        for member in four.members { for _ in 0..<3 { four.transportFailed(member, "connection refused") } }
        #expect(four.members.filter(Self.out).count == 2)
        let one = Self.pool(1)
        for _ in 0..<3 { one.transportFailed(one.members[0], "connection refused") }
        #expect(Self.out(one.members[0]), "a lone endpoint can be ejected")
    }
}

@Suite("What the gateway reads and makes per call, byte by byte")
struct PerCallTextTests {
    @Test("a token's row id and secret are read from acc_<id>_<secret>; anything else is not a token")
    func tokenParts() throws {
        let parsed = try #require(TokenStore.parse("acc_42_s3cr3t"[...]))
        #expect(parsed.rowid == 42)
        #expect(String(Substring(parsed.secret)) == "s3cr3t")
        let inside = "Bearer acc_7_x"
        let token = inside[inside.index(inside.startIndex, offsetBy: 7)...]
        #expect(TokenStore.parse(token)?.rowid == 7)
        for wrong in ["", "acc_", "acc__s", "acc_12", "acc_1x_s", "acc_-1_s", "acc_+1_s", "xcc_1_s", "Bearer acc_1_s"] {
            #expect(TokenStore.parse(wrong[...]) == nil, "\(wrong)")
        }
        // An empty secret is a token's shape; its hash then does not match.
        #expect(TokenStore.parse("acc_12_"[...])?.rowid == 12)
    }

    @Test("trace ids the gateway makes: the process's prefix, a dash, the counter in hex; each one new")
    func traceIDs() {
        let ids = (0..<1000).map { _ in GatewayService.traceID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let parts = id.split(separator: "-")
            #expect(parts.count == 2 && id.utf8.count <= 15, "\(id)")
            #expect(parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() }, "\(id)")
        }
        let counters = ids.compactMap { UInt32($0.split(separator: "-")[1], radix: 16) }
        #expect(zip(counters, counters.dropFirst()).allSatisfy { $1 == $0 &+ 1 })
    }
}
