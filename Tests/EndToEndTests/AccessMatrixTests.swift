import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import Foundation
import NIOCore
import Testing

/// Every method of every service, from the generated method tables, called by every role over
/// real processes: through the gateway with each role's token, and at each service directly with
/// the internal credential asserting each role. Each answer is checked against the matrix of
/// ``AccessPolicy`` (docs/OPERATIONS.md, "Who may do what"): a cell that says no is refused with
/// PERMISSION_DENIED naming the method; one that says yes gets past the matrix (the empty
/// request then fails as the handler finds it, or succeeds).
@Suite("who may do what: every method, every role", .timeLimit(.minutes(3)))
struct AccessMatrixTests {
    /// The methods each service hosts besides its own: health, echo and its clock.
    static let common = HealthMethods.allMethods + EchoMethods.allMethods + ClockMethods.allMethods
    static let services: [(flag: String, methods: [AnyRPCMethod])] = [
        ("--intake", IntakeMethods.allMethods + common),
        ("--qualification", QualificationMethods.allMethods + common),
        ("--supervision", SupervisionMethods.allMethods + common),
    ]

    /// What one call came to: nil when it got past the matrix, else the refusal.
    static func refusal(
        _ connection: ClientConnection,
        _ method: AnyRPCMethod,
        _ options: CallOptions
    ) async -> RPCError? {
        do {
            if method.kind == .serverStreaming {
                for try await _ in connection.serverStream(path: method.path, request: ByteBuffer(), options: options) {
                    break
                }
            } else {
                _ = try await connection.unary(path: method.path, request: ByteBuffer(), options: options)
            }
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(.unknown, "\(error)")
        }
    }

    /// Checks one answer against the matrix; the cell's description for the failure message.
    static func check(_ answer: RPCError?, _ method: AnyRPCMethod, _ role: Principal.Role, at place: String) {
        let name = String(method.path.dropFirst("/accord.v1.".count))
        let matrixRefused =
            answer?.code == .permissionDenied && answer?.message.contains("may not call \(name)") == true
        let allowed = AccessPolicy.refusal(role, calling: method.path) == nil
        if allowed {
            #expect(!matrixRefused, "\(place): \(role.rawValue) may call \(name) but was refused: \(answer!)")
            #expect(answer?.code != .unimplemented, "\(place): \(name) is not hosted: \(answer!)")
        } else {
            #expect(
                matrixRefused,
                "\(place): \(role.rawValue) may not call \(name), yet: \(answer.map { "\($0)" } ?? "OK")"
            )
        }
    }

    @Test("each cell of the matrix holds through the gateway and at every service")
    func everyCell() async throws {
        let set = try CLITests.start(seedICE: false)
        defer { set.stop() }
        let gatewayEndpoint = try #require(Endpoint(set.gateway))
        let client = RPCClient(endpoints: [gatewayEndpoint])
        defer { Task { await client.close() } }
        func bearer(_ token: String?) -> CallOptions {
            CallOptions(timeout: .seconds(10), metadata: [MetadataKey.authorization: "Bearer \(token ?? "")"])
        }
        // A supervisor to scope the supervisor's token to (the others are the set's).
        let supervisor = try await client.unary(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "Ida Moss", component: .ice, office: "ERO Dallas")),
            options: bearer(set.tokens["program-office"])
        )
        let supervisorToken = try await client.unary(
            GatewayMethods.createToken,
            CreateTokenRequest(role: "supervisor", scope: supervisor.id, name: "Ida Moss"),
            options: bearer(set.tokens["operator"])
        ).token
        let tokens: [Principal.Role: String?] = [
            .agency: set.tokens["agency"], .programOffice: set.tokens["program-office"],
            .supervisor: supervisorToken, .auditor: set.tokens["auditor"], .operator: set.tokens["operator"],
        ]
        #expect(tokens.count == Principal.Role.allCases.count)

        // Every method has a row, and every row a method: nothing is open by omission.
        let every = Set(Self.services.flatMap { $0.methods.map(\.path) } + GatewayMethods.allMethods.map(\.path))
        #expect(Set(AccessPolicy.matrix.keys).union(AccessPolicy.open) == every)

        // Through the gateway: its own methods and those it forwards (the services' own).
        let viaGateway =
            GatewayMethods.allMethods + IntakeMethods.allMethods + QualificationMethods.allMethods
            + SupervisionMethods.allMethods
        let gateway = try await ClientConnection.connect(to: gatewayEndpoint)
        var cells = 0
        for method in viaGateway {
            for role in Principal.Role.allCases {
                let answer = await Self.refusal(gateway, method, bearer(tokens[role] ?? nil))
                Self.check(answer, method, role, at: "gateway")
                cells += 1
            }
        }
        await gateway.close()

        // At each service, as the gateway would call it: the credential and the asserted role.
        let credential = try String(contentsOfFile: "\(set.data)/credential", encoding: .utf8)
        for (flag, methods) in Self.services {
            let index = try #require(set.gatewayArguments.firstIndex(of: flag))
            let endpoint = try #require(Endpoint(set.gatewayArguments[index + 1]))
            let connection = try await ClientConnection.connect(to: endpoint)
            for method in methods {
                for role in Principal.Role.allCases {
                    let header =
                        role == .agency
                        ? "agency:ag_1" : role == .supervisor ? "supervisor:\(supervisor.id!)" : role.rawValue
                    let options = CallOptions(
                        timeout: .seconds(10),
                        metadata: [
                            TrustMetadata.principal: header, TrustMetadata.internalCredential: credential,
                            TrustMetadata.principalName: "matrix walk",
                        ]
                    )
                    Self.check(
                        await Self.refusal(connection, method, options),
                        method,
                        role,
                        at: flag.dropFirst(2).description
                    )
                    cells += 1
                }
            }
            await connection.close()
        }
        #expect(cells > 800, "\(cells) cells walked")
    }
}
