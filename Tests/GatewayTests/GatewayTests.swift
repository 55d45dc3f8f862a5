import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordServiceRuntime
import AccordStorage
import AccordTestSupport
import AccordWire
import Foundation
import Intake
import Logging
import NIOCore
import Qualification
import Supervision
import Synchronization
import Testing

@testable import Gateway

/// The three services and the gateway in one process, each on its own loopback port and SQLite
/// file, with the internal credential between them.
struct Deployment {
    static let credential = "test-internal-credential"
    static let rulesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../seeds/rules").standardized.path

    struct Served {
        let server: RPCServer
        let task: Task<Void, any Error>
        let port: Int

        func stop() async {
            self.server.beginGracefulShutdown()
            _ = await self.task.result
        }
    }

    let intake: Served
    let qualification: Served
    let supervision: Served
    let supervisionService: SupervisionService
    let gateway: Served
    let gatewayService: GatewayService
    let tokens: TokenStore
    let client: RPCClient
    let directory: URL
    let operatorToken: String
    let traces: TraceRecorder

    static var logger: Logger {
        var logger = Logger(label: "test.gateway")
        logger.logLevel = .critical
        return logger
    }

    /// The trace id of every call the backends of every deployment receive, by method.
    final class TraceRecorder: ServerInterceptor {
        let seen = Mutex<[(method: String, trace: String?)]>([])

        func intercept<Result: Sendable>(
            context: ServerContext,
            next: @Sendable (ServerContext) async throws -> Result
        ) async throws -> Result {
            self.seen.withLock { $0.append((context.method, context.metadata[MetadataKey.traceID])) }
            return try await next(context)
        }
    }

    static func serve(
        _ register: (inout RPCRouter) -> Void,
        port: Int = 0,
        interceptor: (any ServerInterceptor)? = nil,
        recorder: TraceRecorder? = nil
    )
        async throws -> Served
    {
        var router = RPCRouter()
        register(&router)
        Diagnostics.registerHealth(into: &router, serverName: "test")
        var configuration = ServerConfiguration()
        configuration.port = port
        let server = RPCServer(
            configuration: configuration,
            router: router,
            interceptors: (recorder.map { [$0] } ?? [])
                + [interceptor ?? PrincipalInterceptor(internalCredential: Self.credential)],
            logger: Self.logger
        )
        let task = Task { try await server.run() }
        return Served(server: server, task: task, port: try await server.localAddress.port!)
    }

    static func start(maxInFlight: Int = 64, branchTimeout: TimeAmount = .seconds(2)) async throws -> Deployment {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-gw-\(UUID().uuidString)")
        let logger = Self.logger
        let intakeService = try await IntakeService(
            storage: try await TestStorage.location(file: directory.appendingPathComponent("i.sqlite").path),
            logger: logger
        )
        let qualificationService = try await QualificationService(
            storage: try await TestStorage.location(file: directory.appendingPathComponent("q.sqlite").path),
            rules: try RuleSet.load(directory: Self.rulesDirectory),
            logger: logger
        )
        let supervisionService = try await SupervisionService(
            storage: try await TestStorage.location(file: directory.appendingPathComponent("s.sqlite").path),
            rules: try SupervisionRules.load(directory: Self.rulesDirectory),
            logger: logger
        )
        // Intake answers echoes, the other backends do not (a forwarded echo shows where it went).
        let traces = TraceRecorder()
        let intake = try await Self.serve(
            {
                intakeService.register(into: &$0)
                Diagnostics.registerEcho(into: &$0)
            },
            recorder: traces
        )
        let qualification = try await Self.serve({ qualificationService.register(into: &$0) }, recorder: traces)
        let supervision = try await Self.serve({ supervisionService.register(into: &$0) }, recorder: traces)
        let tokens = try await TokenStore(
            storage: try await TestStorage.location(file: directory.appendingPathComponent("g.sqlite").path),
            logger: logger
        )
        func pool(_ name: String, _ port: Int) -> BackendPool {
            BackendPool(
                service: name,
                endpoints: [Endpoint(host: "127.0.0.1", port: port)],
                maxInFlight: maxInFlight,
                logger: logger
            )
        }
        let gatewayService = GatewayService(
            backends: .init(
                intake: pool("intake", intake.port),
                qualification: pool("qualification", qualification.port),
                supervision: pool("supervision", supervision.port)
            ),
            tokens: tokens,
            internalCredential: InternalCredentials(Self.credential),
            branchTimeout: branchTimeout,
            logger: logger
        )
        for pool in gatewayService.backends.all { await pool.checkHealth(timeout: .seconds(1), now: 0) }
        let gateway = try await Self.serve(
            { gatewayService.register(into: &$0) },
            interceptor: BearerAuthenticator(tokens: tokens)
        )
        let operatorToken = try await tokens.create(role: "operator", scope: nil, name: "test operator", by: "test")
            .token!
        return Deployment(
            intake: intake,
            qualification: qualification,
            supervision: supervision,
            supervisionService: supervisionService,
            gateway: gateway,
            gatewayService: gatewayService,
            tokens: tokens,
            client: RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: gateway.port)]),
            directory: directory,
            operatorToken: operatorToken,
            traces: traces
        )
    }

    func stop() async {
        await self.client.close()
        await self.gateway.stop()
        await self.gatewayService.close()
        await self.intake.stop()
        await self.qualification.stop()
        await self.supervision.stop()
    }

    static func bearer(_ token: String) -> CallOptions {
        CallOptions(timeout: .seconds(5), metadata: [MetadataKey.authorization: "Bearer \(token)"])
    }

    func token(_ role: String, scope: String? = nil, name: String = "someone") async throws -> String {
        try await self.client.unary(
            GatewayMethods.createToken,
            CreateTokenRequest(role: role, scope: scope, name: name),
            options: Self.bearer(self.operatorToken)
        ).token!
    }

    func error<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        token: String?
    ) async
        -> RPCError?
    {
        do {
            _ = try await self.client.unary(
                method,
                request,
                options: token.map(Self.bearer) ?? CallOptions(timeout: .seconds(5))
            )
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(.unknown, "\(error)")
        }
    }
}

@Suite("The gateway: tokens, routing, trust, fan-out, backends", .timeLimit(.minutes(1)))
struct GatewayTests {
    static let quiet: Logger = {
        var logger = Logger(label: "test.gateway.storage")
        logger.logLevel = .critical
        return logger
    }()

    static let agency = Agency(
        state: "TX",
        name: "Travis County Sheriff's Office",
        type: .county,
        hasJail: true,
        jailCapacity: 300
    )

    @Test("no token, a forged one, a revoked one: UNAUTHENTICATED; tokens are stored only as hashes")
    func authentication() async throws {
        let d = try await Deployment.start()
        defer { Task { await d.stop() } }
        let list = ListAgenciesRequest()
        #expect(await d.error(IntakeMethods.listAgencies, list, token: nil)?.code == .unauthenticated)
        #expect(await d.error(IntakeMethods.listAgencies, list, token: "acc_1_forged")?.code == .unauthenticated)
        #expect(await d.error(IntakeMethods.listAgencies, list, token: "not-a-token")?.code == .unauthenticated)
        let auditor = try await d.token("auditor", name: "Inspector Gadget")
        #expect(await d.error(IntakeMethods.listAgencies, list, token: auditor) == nil)
        let listed = try await d.client.unary(
            GatewayMethods.listTokens,
            ListTokensRequest(),
            options: Deployment.bearer(d.operatorToken)
        )
        let id = try #require(listed.tokens.first { $0.name == "Inspector Gadget" }?.id)
        _ = try await d.client.unary(
            GatewayMethods.revokeToken,
            RevokeTokenRequest(tokenId: id),
            options: Deployment.bearer(d.operatorToken)
        )
        let revoked = await d.error(IntakeMethods.listAgencies, list, token: auditor)
        #expect(revoked?.code == .unauthenticated && revoked?.message.contains("revoked") == true)
        // Only operators manage tokens; a scoped role needs its scope.
        let office = try await d.token("program-office")
        #expect(
            await d.error(GatewayMethods.createToken, CreateTokenRequest(role: "operator", name: "x"), token: office)?
                .code == .permissionDenied
        )
        let unscoped = await d.error(
            GatewayMethods.createToken,
            CreateTokenRequest(role: "agency", name: "x"),
            token: d.operatorToken
        )
        #expect(unscoped?.code == .invalidArgument && unscoped?.message.hasPrefix("scope") == true)
        // The database holds no token text: not in any byte of the SQLite file, nor in any stored value.
        let secret = String(auditor.split(separator: "_", maxSplits: 2)[2])
        #expect(secret.count >= 40, "the token's secret is \(secret.count) characters")
        let file = d.directory.appendingPathComponent("g.sqlite")
        if TestStorage.postgresServer == nil {
            #expect(try Data(contentsOf: file).range(of: Data(secret.utf8)) == nil)
        }
        let storage = try await TestStorage.location(file: file.path).open(TokenSchema.migrations, logger: Self.quiet)
        let stored = try await storage.read { session in try session.rows("SELECT * FROM token") }
        #expect(stored.count >= 2)
        #expect(!stored.flatMap(\.values).contains { "\($0)".contains(secret) })
        // The services refuse callers without the internal credential, even with a principal.
        let direct = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: d.intake.port)])
        await #expect(throws: RPCError.self) {
            try await direct.unary(
                IntakeMethods.listAgencies,
                list,
                options: CallOptions(metadata: [TrustMetadata.principal: "operator"])
            )
        }
        await direct.close()
    }

    @Test("calls are routed with the caller as principal; an agency sees only its own dossier; auditors do not write")
    func routingAndScope() async throws {
        let d = try await Deployment.start()
        defer { Task { await d.stop() } }
        let office = try await d.token("program-office", name: "Program Office Desk")
        let registered = try await d.client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Self.agency),
            options: Deployment.bearer(office)
        )
        #expect(registered.created?.who?.contains("Program Office Desk") == true)
        // A backend's error comes through whole: status, message and details.
        let duplicate = await d.error(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Self.agency),
            token: office
        )
        #expect(duplicate?.code == .alreadyExists)
        #expect(duplicate?.errorDetails?.reason == "DUPLICATE_AGENCY")
        #expect(duplicate?.errorDetails?.metadata.first?.value == registered.id)
        let other = try await d.client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Agency(state: "TX", name: "Bexar County Sheriff's Office", type: .county)),
            options: Deployment.bearer(office)
        )
        let agencyToken = try await d.token("agency", scope: registered.id, name: "Travis coordinator")
        let own = try await d.client.unary(
            GatewayMethods.getDossier,
            GetDossierRequest(agency: registered.id),
            options: Deployment.bearer(agencyToken)
        )
        #expect(own.agency?.name == Self.agency.name && own.partial == false && own.missing.isEmpty)
        let foreign = await d.error(GatewayMethods.getDossier, GetDossierRequest(agency: other.id), token: agencyToken)
        #expect(foreign?.code == .permissionDenied)
        let auditor = try await d.token("auditor")
        let write = await d.error(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Self.agency),
            token: auditor
        )
        #expect(write?.code == .permissionDenied)
        // A streaming method is forwarded too.
        var streamed = 0
        for try await _ in try await d.client.serverStreaming(
            IntakeMethods.exportAgencies,
            ExportAgenciesRequest(),
            options: Deployment.bearer(auditor)
        ) { streamed += 1 }
        #expect(streamed == 2)
        let backends = try await d.client.unary(
            GatewayMethods.getBackends,
            GetBackendsRequest(),
            options: Deployment.bearer(auditor)
        )
        #expect(backends.backends.count == 3 && backends.backends.allSatisfy { $0.state == .healthy })
    }

    @Test("a scoped token names what exists: an agency intake has, a supervisor supervision has")
    func tokenScopesExist() async throws {
        let d = try await Deployment.start()
        defer { Task { await d.stop() } }
        let office = try await d.token("program-office")
        let agency = try await d.client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Self.agency),
            options: Deployment.bearer(office)
        )
        let supervisor = try await d.client.unary(
            SupervisionMethods.createSupervisor,
            CreateSupervisorRequest(supervisor: Supervisor(name: "Dana Reyes", component: .ice, office: "ERO Houston")),
            options: Deployment.bearer(office)
        )
        _ = try await d.token("agency", scope: agency.id)
        _ = try await d.token("supervisor", scope: supervisor.id)
        let before = try await d.client.unary(
            GatewayMethods.listTokens,
            ListTokensRequest(),
            options: Deployment.bearer(d.operatorToken)
        ).tokens.count
        for (role, scope, code) in [
            ("agency", "ag_999999", StatusCode.notFound),
            ("supervisor", "sv_999999", .notFound),
            ("supervisor", "dana", .notFound),
            ("agency", "TX2270000", .invalidArgument),
        ] {
            let refused = await d.error(
                GatewayMethods.createToken,
                CreateTokenRequest(role: role, scope: scope, name: "nobody"),
                token: d.operatorToken
            )
            #expect(
                refused?.code == code && refused?.message.contains(scope) == true,
                "\(role) \(scope): \(refused.map { "\($0)" } ?? "taken")"
            )
        }
        let after = try await d.client.unary(
            GatewayMethods.listTokens,
            ListTokensRequest(),
            options: Deployment.bearer(d.operatorToken)
        ).tokens.count
        #expect(after == before, "a refused token was stored")
    }

    @Test("an idempotency key goes through to the service: a retried submission returns the first request, OK")
    func idempotencyKeyThroughTheGateway() async throws {
        let d = try await Deployment.start()
        defer { Task { await d.stop() } }
        let office = try await d.token("program-office")
        let agency = try await d.client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Self.agency),
            options: Deployment.bearer(office)
        )
        let submission = SubmitRequestRequest(
            request: ParticipationRequest(
                agencyId: agency.id,
                model: .tfm,
                partner: .ice,
                consent: Consent(officialName: "Pat Smith", office: "Sheriff", signedOn: "2026-05-01"),
                needs: NeedsAssessment(expectedAnnualEncounters: 100, detentionCapacity: 0, officersProposed: 2)
            )
        )
        var options = Deployment.bearer(office)
        options.metadata.add(MetadataKey.idempotencyKey, "submit-travis-tfm")
        let first = try await d.client.unary(IntakeMethods.submitRequest, submission, options: options)
        let retried = try await d.client.unary(IntakeMethods.submitRequest, submission, options: options)
        #expect(retried.id == first.id && first.id != nil)
        // Without the key, the same submission is a second open request: refused, naming the first.
        let again = await d.error(IntakeMethods.submitRequest, submission, token: office)
        #expect(again?.code == .alreadyExists && again?.message.contains(first.id ?? "?") == true)
    }

    @Test("echo: answered by the gateway, or forwarded to the backend named in echo-backend metadata")
    func echoThroughTheGateway() async throws {
        let d = try await Deployment.start()
        defer { Task { await d.stop() } }
        let request = EchoRequest(payload: Array("through".utf8))
        func echo(via backend: String?) async throws -> EchoResponse {
            var options = Deployment.bearer(d.operatorToken)
            if let backend { options.metadata.add(MetadataKey.echoBackend, backend) }
            return try await d.client.unary(EchoMethods.unary, request, options: options)
        }
        #expect(try await echo(via: nil).payload == request.payload)
        #expect(try await echo(via: "intake").payload == request.payload)
        // Qualification hosts no echo here: the call went there and came back UNIMPLEMENTED.
        do {
            _ = try await echo(via: "qualification")
            Issue.record("qualification answered an echo it does not host")
        } catch let error as RPCError {
            #expect(error.code == .unimplemented)
        }
        do {
            _ = try await echo(via: "elsewhere")
            Issue.record("an unknown backend was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.message.contains("elsewhere"))
        }
        // The streaming echo is forwarded too.
        var options = Deployment.bearer(d.operatorToken)
        options.metadata.add(MetadataKey.echoBackend, "intake")
        var sequences: [UInt32] = []
        for try await response in try await d.client.serverStreaming(
            EchoMethods.stream,
            EchoRequest(payload: [1], count: 3),
            options: options
        ) { sequences.append(response.sequence ?? 0) }
        #expect(sequences == [0, 1, 2])
        // Without a token the gateway answers nothing, echo included.
        let anonymous = await d.error(EchoMethods.unary, request, token: nil)
        #expect(anonymous?.code == .unauthenticated)
    }

    @Test("every backend call made for one dossier carries one trace id: the caller's, else one the gateway makes")
    func dossierTraceID() async throws {
        let d = try await Deployment.start()
        defer { Task { await d.stop() } }
        let office = try await d.token("program-office")
        let agency = try await d.client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Self.agency),
            options: Deployment.bearer(office)
        )
        func traces(of options: CallOptions) async throws -> [String?] {
            d.traces.seen.withLock { $0.removeAll() }
            _ = try await d.client.unary(
                GatewayMethods.getDossier,
                GetDossierRequest(agency: agency.id),
                options: options
            )
            return d.traces.seen.withLock { $0.filter { !$0.method.hasPrefix("/accord.v1.Health/") }.map(\.trace) }
        }
        var options = Deployment.bearer(office)
        options.metadata.add(MetadataKey.traceID, "caller-trace-1")
        let given = try await traces(of: options)
        #expect(given.count >= 8 && given.allSatisfy { $0 == "caller-trace-1" }, "\(given)")
        let made = try await traces(of: Deployment.bearer(office))
        #expect(made.count >= 8 && made[0] != nil && Set(made).count == 1, "\(made)")
        let next = try await traces(of: Deployment.bearer(office))
        #expect(Set(next).count == 1 && next[0] != made[0])
    }

    @Test("a backend down during a dossier: the answer comes within the deadline, partial, naming what is missing")
    func partialDossier() async throws {
        // A stopped backend refuses at once; the branch deadline only bounds a slow one (generous,
        // so that a loaded machine does not make a healthy branch miss it).
        let d = try await Deployment.start(branchTimeout: .seconds(2))
        defer { Task { await d.stop() } }
        let office = try await d.token("program-office")
        let agency = try await d.client.unary(
            IntakeMethods.registerAgency,
            RegisterAgencyRequest(agency: Self.agency),
            options: Deployment.bearer(office)
        )
        await d.supervision.stop()
        let started = ContinuousClock.now
        let dossier = try await d.client.unary(
            GatewayMethods.getDossier,
            GetDossierRequest(agency: agency.id),
            options: Deployment.bearer(office)
        )
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(dossier.partial == true && dossier.agency?.id == agency.id)
        #expect(dossier.missing.count == 4 && dossier.missing.allSatisfy { $0.hasPrefix("supervision: ") })
        // The supervision backend comes back on its port: the health check brings it back.
        let port = d.supervision.port
        let restarted = try await Deployment.serve({ d.supervisionService.register(into: &$0) }, port: port)
        defer { Task { await restarted.stop() } }
        // The health checks bring it back once its connection is re-established (after backoff).
        let pool = d.gatewayService.backends.supervision
        for _ in 0..<100 where pool.backends.first?.state != .healthy {
            await pool.checkHealth(timeout: .seconds(1), now: 1)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(pool.backends.first?.state == .healthy)
        let whole = try await d.client.unary(
            GatewayMethods.getDossier,
            GetDossierRequest(agency: agency.id),
            options: Deployment.bearer(office)
        )
        #expect(whole.partial == false)
        let overview = try await d.client.unary(
            GatewayMethods.getProgramOverview,
            GetProgramOverviewRequest(),
            options: Deployment.bearer(office)
        )
        #expect(overview.partial == false && overview.requests?.counts.isEmpty == true && overview.supervision != nil)
    }

    @Test(
        "a flood beyond the in-flight cap: the excess is RESOURCE_EXHAUSTED at once, the rest answered, the gateway stays up"
    )
    func flood() async throws {
        let d = try await Deployment.start(maxInFlight: 1)
        defer { Task { await d.stop() } }
        let auditor = try await d.token("auditor")
        let codes = await withTaskGroup(of: StatusCode.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    await d.error(IntakeMethods.listAgencies, ListAgenciesRequest(), token: auditor)?.code ?? .ok
                }
            }
            return await group.reduce(into: [StatusCode: Int]()) { $0[$1, default: 0] += 1 }
        }
        #expect((codes[.resourceExhausted] ?? 0) > 0, "\(codes)")
        #expect((codes[.ok] ?? 0) > 0 && (codes[.ok] ?? 0) + (codes[.resourceExhausted] ?? 0) == 200, "\(codes)")
        #expect(await d.error(IntakeMethods.listAgencies, ListAgenciesRequest(), token: auditor) == nil)
    }

    @Test(
        "two replicas: calls go round-robin; with one stopped, idempotent or keyed calls still succeed and it is taken out"
    )
    func replicas() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-gw-\(UUID().uuidString)")
        let intake = try await IntakeService(
            storage: try await TestStorage.location(file: directory.appendingPathComponent("i.sqlite").path),
            logger: Deployment.logger
        )
        let first = try await Deployment.serve { intake.register(into: &$0) }
        let second = try await Deployment.serve { intake.register(into: &$0) }
        let pool = BackendPool(
            service: "intake",
            endpoints: [first, second].map { Endpoint(host: "127.0.0.1", port: $0.port) },
            maxInFlight: 8,
            logger: Deployment.logger
        )
        await pool.checkHealth(timeout: .seconds(1), now: 0)
        #expect(pool.backends.allSatisfy { $0.state == .healthy })
        var options = CallOptions(timeout: .seconds(5))
        options.metadata.add(TrustMetadata.principal, "auditor")
        options.metadata.add(TrustMetadata.internalCredential, Deployment.credential)
        for _ in 0..<4 { _ = try await pool.call(IntakeMethods.listAgencies, ListAgenciesRequest(), options: options) }
        await second.stop()
        // Whichever replica a call picks, it is answered: the dead one is skipped or retried past,
        // for a registration too when it carries an idempotency key (the first two calls after
        // the stop: one of them meets the dead replica).
        for index in 0..<2 {
            var keyed = options
            keyed.metadata.add(MetadataKey.idempotencyKey, "register-\(index)")
            keyed.metadata.set(TrustMetadata.principal, "program-office")
            let agency = Agency(state: "TX", name: "Replica Test Office \(index)", type: .municipality)
            _ = try await pool.call(IntakeMethods.registerAgency, RegisterAgencyRequest(agency: agency), options: keyed)
        }
        for _ in 0..<6 { _ = try await pool.call(IntakeMethods.listAgencies, ListAgenciesRequest(), options: options) }
        await pool.checkHealth(timeout: .seconds(1), now: 1)
        #expect(pool.backends.map(\.state) == [.healthy, .unhealthy])
        await pool.close()
        await first.stop()
    }

    @Test("beyond the in-flight cap a call is RESOURCE_EXHAUSTED, not queued; no healthy endpoint is UNAVAILABLE")
    func inFlightCap() async throws {
        let pool = BackendPool(
            service: "intake",
            endpoints: [Endpoint(host: "127.0.0.1", port: 1)],
            maxInFlight: 1,
            logger: Deployment.logger
        )
        // Not checked yet: the endpoint may be tried.
        let first = try pool.acquire()
        #expect(throws: RPCError.self) { _ = try pool.acquire() }
        do {
            _ = try pool.acquire()
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
        }
        pool.release(first)
        await pool.checkHealth(timeout: .milliseconds(200), now: 0)
        do {
            _ = try pool.acquire()
            Issue.record("picked an endpoint that failed its health check")
        } catch let error as RPCError {
            #expect(error.code == .unavailable && error.message.contains("no healthy intake endpoint"))
        }
        await pool.close()
    }
}
