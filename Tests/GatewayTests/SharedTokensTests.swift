import AccordRPC
import AccordTestSupport
import Foundation
import Logging
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
        // every two seconds in the gateway).
        try await second.refresh()
        await #expect(throws: RPCError(.unauthenticated, "the bearer token was revoked")) {
            try await second.authenticate(token)
        }
        #expect(second.list(includeRevoked: false).allSatisfy { $0.id != made.info?.id })
    }
}
