import AccordMessages
import AccordRPC
import AccordWire
import Foundation
import Testing

/// Tokens over real processes: two gateways on one token store, `accord-gateway create-token`
/// while they run, a revocation seen by the other gateway, a token that expires.
@Suite("tokens shared by running gateways", .timeLimit(.minutes(3)))
struct TokenProcessTests {
    static func backends(_ gateway: RPCClient, token: String) async throws -> Int {
        try await gateway.unary(
            GatewayMethods.getBackends,
            GetBackendsRequest(),
            options: CallOptions(metadata: [MetadataKey.authorization: "Bearer \(token)"])
        ).backends.count
    }

    /// Whether `token` is refused UNAUTHENTICATED with a message containing `text`.
    static func refused(_ gateway: RPCClient, _ token: String, saying text: String) async -> Bool {
        do {
            _ = try await Self.backends(gateway, token: token)
            return false
        } catch let error as RPCError {
            return error.code == .unauthenticated && error.message.contains(text)
        } catch {
            return false
        }
    }

    @Test("a token made by create-token works at once on both gateways; a revocation and an expiry are seen by both")
    func sharedAndTimed() async throws {
        let set = try CLITests.start(seedICE: false)
        defer { set.stop() }
        let (secondProcess, secondPort) = try EchoProcessTests.startServer(
            "accord-gateway",
            arguments: set.gatewayArguments + ["--health-seconds", "1"]
        )
        defer { secondProcess.terminate() }
        let first = RPCClient(endpoints: [try #require(Endpoint(set.gateway))])
        let second = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: secondPort)])
        defer { Task { for client in [first, second] { await client.close() } } }

        let made = try CLITests.run(
            "accord-gateway",
            ["create-token", "--data-dir", set.data, "--role", "auditor", "--name", "night auditor"]
        )
        #expect(made.status == 0, "\(made)")
        let token = made.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await Self.backends(first, token: token) == 3)
        #expect(try await Self.backends(second, token: token) == 3)

        let id = try #require(made.errors.split(separator: " ").dropFirst().first.map(String.init))
        let revoked = try set.accord(["token", "revoke", id], as: "operator")
        #expect(revoked.status == 0, "\(revoked)")
        let started = ContinuousClock.now
        let seen = try await SupervisionProcessTests.eventually(seconds: 5) {
            await Self.refused(second, token, saying: "revoked") ? true : nil
        }
        #expect(seen == true, "the second gateway refused the revoked token after \(ContinuousClock.now - started)")

        let brief = try CLITests.run(
            "accord-gateway",
            [
                "create-token", "--data-dir", set.data, "--role", "auditor", "--name", "visitor", "--expires-in",
                "2s",
            ]
        )
        let short = brief.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await Self.backends(second, token: short) == 3)
        let expired = try await SupervisionProcessTests.eventually(seconds: 10) { () async -> Bool? in
            let atFirst = await Self.refused(first, short, saying: "expired at")
            let atSecond = await Self.refused(second, short, saying: "expired at")
            return atFirst && atSecond ? true : nil
        }
        #expect(expired == true, "both gateways refuse the token once it expired")
        let listed = try set.accord(["token", "list", "--all", "--json"], as: "operator")
        #expect(
            listed.output.contains("\"expires_at_ms\"") && listed.output.contains("\"last_used_at_ms\""),
            "\(listed)"
        )
        let bad = try CLITests.run(
            "accord-gateway",
            ["create-token", "--data-dir", set.data, "--role", "auditor", "--name", "x", "--expires-in", "soon"]
        )
        #expect(bad.status != 0 && bad.errors.contains("--expires-in: soon is not a lifetime"), "\(bad)")
    }
}
