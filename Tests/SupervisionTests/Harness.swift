import AccordCalendar
import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordTestSupport
import Foundation
import Logging
import Synchronization

@testable import Supervision

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let value: Mutex<Int64>
    init(_ start: Int64) { self.value = Mutex(start) }
    var now: Int64 { self.value.withLock { $0 } }
    func set(_ milliseconds: Int64) { self.value.withLock { $0 = milliseconds } }
    func advance(days: Int = 0, hours: Int = 0, minutes: Int = 0) {
        self.value.withLock { $0 += Int64(days) * 86_400_000 + Int64(hours) * 3_600_000 + Int64(minutes) * 60_000 }
    }
}

/// A supervision service on a loopback port over a real SQLite file, with a hand-moved clock.
struct Harness {
    static let rulesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../seeds/rules").standardized.path
    static let rulesPath = "\(rulesDirectory)/supervision.json"
    static let rules: SupervisionRules = try! SupervisionRules.load(directory: rulesDirectory)

    /// 2026-06-01T12:00:00Z, a Monday.
    static let start: Int64 = 1_780_315_200_000

    let service: SupervisionService
    let server: RPCServer
    let task: Task<Void, any Error>
    let client: RPCClient
    let clock: TestClock
    let path: String

    static func start(
        path: String? = nil,
        backends: SupervisionService.Backends = .init(),
        clock: TestClock = TestClock(Harness.start)
    ) async throws -> Harness {
        let path =
            path
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "accord-sup-\(UUID().uuidString)/s.sqlite"
            ).path
        var logger = Logger(label: "test.supervision")
        logger.logLevel = .critical
        let service = try await SupervisionService(
            storage: try await TestStorage.location(file: path),
            rules: Self.rules,
            backends: backends,
            logger: logger,
            clock: ServiceClock { clock.now }
        )
        var router = RPCRouter()
        service.register(into: &router)
        let server = RPCServer(
            configuration: ServerConfiguration(),
            router: router,
            interceptors: [PrincipalInterceptor(internalCredential: nil)],
            logger: logger
        )
        let task = Task { try await server.run() }
        let port = try await server.localAddress.port!
        return Harness(
            service: service,
            server: server,
            task: task,
            client: RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)]),
            clock: clock,
            path: path
        )
    }

    func stop() async {
        await self.client.close()
        self.server.beginGracefulShutdown()
        _ = await self.task.result
    }

    static func principal(_ header: String) -> CallOptions {
        CallOptions(metadata: [TrustMetadata.principal: header])
    }

    static let office = Self.principal("program-office")

    func call<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        as principal: String = "program-office"
    ) async throws -> Response {
        try await self.client.unary(method, request, options: Self.principal(principal))
    }

    /// The status code a call fails with, or nil when it succeeds.
    func code<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        as principal: String = "program-office"
    ) async -> RPCError? {
        do {
            _ = try await self.call(method, request, as: principal)
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(.unknown, "\(error)")
        }
    }

    // MARK: A little world: one agency with an active agreement of each model

    struct World {
        var agreements: [Model: String] = [:]
        var officers: [Model: String] = [:]
        var authorizations: [Model: String] = [:]
        var supervisor = ""
    }

    /// Imports JEM, WSO and TFM agreements for agency `ag_1` (signed a year ago), creates an ICE
    /// supervisor assigned to each, and certifies one officer per model (authorized at once).
    /// With `supervise: false` no supervisor is assigned.
    func world(agency: String = "ag_1", supervise: Bool = true) async throws -> World {
        var world = World()
        let signed = Day(unixMilliseconds: self.clock.now).adding(-365).description
        let supervisor = try await self.call(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "Dana Reyes", component: .ice, office: "ERO Houston"))
        )
        world.supervisor = supervisor.id!
        for (index, model) in [Model.jem, .wso, .tfm].enumerated() {
            let agreement = try await self.call(
                SupervisionMethods.importAgreement,
                ImportAgreementRequest(
                    agencyId: agency,
                    agencyName: "Harris County Sheriff's Office",
                    state: "TX",
                    model: model,
                    signedOn: signed,
                    moaLink: "https://example.org/moa/\(index)",
                    sheet: "2025-05-16"
                )
            )
            world.agreements[model] = agreement.id!
            if supervise {
                _ = try await self.call(
                    SupervisionMethods.assignSupervisor,
                    AssignSupervisorRequest(supervisorId: supervisor.id, agreementId: agreement.id)
                )
            }
            let officer = "of_\(agency)_\(index)"
            let notice = try await self.call(
                SupervisionMethods.notifyCertified,
                NotifyCertifiedRequest(
                    officerId: officer,
                    agencyId: agency,
                    model: model,
                    name: "Officer \(index)",
                    certifiedOn: Day(unixMilliseconds: self.clock.now).description,
                    rulesVersion: "2026-11-30.1"
                )
            )
            world.officers[model] = officer
            world.authorizations[model] = notice.authorizationId!
        }
        return world
    }

    /// Records an action by the officer's agency, `minutesAgo` before now.
    func act(
        _ officer: String,
        _ function: DelegatedFunction,
        _ place: ActionPlace,
        at performed: Int64? = nil,
        citizenshipClaimed: Bool = false,
        category: String? = nil,
        as principal: String = "agency:ag_1"
    ) async throws -> DelegatedAction {
        try await self.call(
            SupervisionMethods.recordAction,
            RecordActionRequest(
                action: DelegatedAction(
                    officerId: officer,
                    function: function,
                    performedAtMs: performed ?? self.clock.now,
                    place: place,
                    location: "Harris County Jail",
                    subjectRef: "BK-\(Int.random(in: 100_000...999_999))",
                    outcome: "done",
                    citizenshipClaimed: citizenshipClaimed,
                    detainerCategory: category
                )
            ),
            as: principal
        )
    }

    func actionCode(
        _ officer: String,
        _ function: DelegatedFunction,
        _ place: ActionPlace,
        at performed: Int64? = nil,
        category: String? = nil,
        as principal: String = "agency:ag_1"
    ) async -> RPCError? {
        do {
            _ = try await self.act(officer, function, place, at: performed, category: category, as: principal)
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(.unknown, "\(error)")
        }
    }
}
