import AccordClientKit
import AccordLoadKit
import AccordMessages
import AccordRPC
import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// Load generator: closed loop (`--concurrency` callers over `--connections` connections, each
/// sending its next call when the last answered) or open loop (`--rate`, latency from each call's
/// scheduled time), over the scenarios its help lists.

@main
struct AccordLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-load",
        abstract: "Drive an Accord server with calls and report throughput and latency percentiles.",
        discussion: """
            Example: accord-load echo --target 127.0.0.1:7409 --concurrency 64 --payload 64 --duration 10s
            Closed loop (--concurrency): latency from send to answer. Open loop (--rate): latency from \
            each call's scheduled send time, so a stalled server shows in the figures.
            """
    )

    @Argument(
        help: """
            The scenario: echo (any server; through the gateway with --echo-backend). read: agency gets, lists \
            and, through the gateway, dossiers; write: request submissions and, through the gateway, \
            delegated-action records (durable writes); mixed: a weighted day of traffic (gateway); lifecycle: \
            whole agency journeys (gateway, closed loop). Single operations: get, list, register, submit \
            (intake); evaluate, compliance (qualification); act, report (supervision); dossier (gateway). \
            Gateway targets need --token.
            """
    )
    var scenario: String

    @Option(help: "Server address HOST:PORT.")
    var target: String = "127.0.0.1:7409"

    @OptionGroup(title: "TLS")
    var tlsOptions: ClientTLSOptions

    @Option(help: "Calls in flight at once.")
    var concurrency: Int = 1

    @Option(help: "Connections to spread the calls over.")
    var connections: Int = 1

    @Option(help: "Payload bytes per echo call.")
    var payload: Int = 64

    @Option(help: "echo through the gateway: forward to this backend (intake, qualification, supervision).")
    var echoBackend: String?

    @Option(help: "How long to measure, e.g. 10s, 500ms, 1m.")
    var duration: String = "10s"

    @Option(help: "How long to run before measuring.")
    var warmup: String = "2s"

    @Option(help: "Idle connections to open and hold during the run (needs a file-descriptor limit above it).")
    var idleConnections: Int = 0

    @Option(help: "submit: agencies registered first; each takes six submissions (3 models × 2 partners).")
    var seedAgencies: Int = 20_000

    @Option(
        help:
            "compliance: officers certified first through the qualification API; act, report: officers authorized first."
    )
    var seedOfficers: Int = 10_000

    @Option(
        help: """
            compliance: intake (or the gateway) HOST:PORT, where the agencies the seeded officers serve are \
            registered first (qualification checks every nomination with intake). Default: the target.
            """
    )
    var intake: String?

    @Option(help: "act, report: JEM agreements imported first, each with a supervisor.")
    var seedAgreements: Int = 1000

    @Option(help: "report: delegated actions recorded first (act records its own).")
    var seedActions: Int = 0

    @Option(help: "Bearer token for calls through the gateway (ACCORD_TOKEN): a program-office token for the journeys.")
    var token: String?

    @Option(
        help: """
            lifecycle, act, write, mixed through the gateway: an operator's token (ACCORD_OPERATOR_TOKEN), to give each \
            agency a token of its own: an agency records its own officers and actions.
            """
    )
    var operatorToken: String?

    @Option(help: "Open loop: calls per second, scheduled whatever the server does (latency from the scheduled time).")
    var rate: Double?

    @Option(help: "Open loop: constant or poisson arrivals.")
    var arrival: String = "constant"

    @Option(help: "Open loop: at most this many calls in flight.")
    var maxOutstanding: Int = 10_000

    @Option(help: "mixed: weights NAME=WEIGHT,… over get, list, dossier, register, submit, act.")
    var weights: String = "get=40,list=10,dossier=5,register=10,act=35"

    @Option(help: "Exit 1 when the share of failed calls is above this (0 to 1).")
    var maxErrorRate: Double = 0

    @Option(help: "Write the latency histogram (HdrHistogram percentile distribution, milliseconds) to this file.")
    var hdrOut: String?

    @Flag(help: "Compress messages of 1 KiB or more (zlib); off by default.")
    var compress = false

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard Self.scenarios.contains(self.scenario) else {
            throw ValidationError(
                "unknown scenario \(self.scenario); one of: \(Self.scenarios.joined(separator: ", "))"
            )
        }
        if let backend = self.echoBackend {
            guard self.scenario == "echo" else { throw ValidationError("--echo-backend is for the echo scenario") }
            guard ["intake", "qualification", "supervision"].contains(backend) else {
                throw ValidationError("--echo-backend must be intake, qualification or supervision, got \(backend)")
            }
        }
        guard self.seedAgreements >= 1, self.seedOfficers >= 0, self.seedActions >= 0 else {
            throw ValidationError("--seed-agreements must be at least 1, --seed-officers and --seed-actions at least 0")
        }
        // Their actions are recorded by the seeded officers (compliance takes 0: seed nothing more).
        let acting = ["act", "report", "write", "mixed"].contains(self.scenario)
        guard !acting || self.seedOfficers >= 1 else {
            throw ValidationError("--seed-officers must be at least 1 for \(self.scenario): its actions need officers")
        }
        guard Endpoint(self.target) != nil else {
            throw ValidationError("--target must be HOST:PORT, got \(self.target)")
        }
        if let intake = self.intake, Endpoint(intake) == nil {
            throw ValidationError("--intake must be HOST:PORT, got \(intake)")
        }
        guard self.concurrency >= 1, self.connections >= 1 else {
            throw ValidationError("--concurrency and --connections must be at least 1")
        }
        guard (0...(4 << 20)).contains(self.payload) else {
            throw ValidationError("--payload must be between 0 and 4194304")
        }
        _ = try Self.parseDuration(self.duration)
        _ = try Self.parseDuration(self.warmup)
        if let rate = self.rate, !(rate > 0 && rate <= 10_000_000) {
            throw ValidationError("--rate must be between 0 and 10000000 calls per second")
        }
        guard Arrival(rawValue: self.arrival) != nil else {
            throw ValidationError("--arrival must be constant or poisson")
        }
        guard self.maxOutstanding >= 1 else { throw ValidationError("--max-outstanding must be at least 1") }
        guard (0...1).contains(self.maxErrorRate) else {
            throw ValidationError("--max-error-rate must be between 0 and 1")
        }
        if self.scenario == "mixed" { _ = try Self.parseWeights(self.weights) }
        let mixedActs =
            try self.scenario == "mixed" && (Self.parseWeights(self.weights)).contains { $0.0 == "act" && $0.1 > 0 }
        // write through the gateway records actions too (its composition takes act where supervision is).
        let agencyActs = ["lifecycle", "act", "write"].contains(self.scenario) || mixedActs
        if agencyActs && self.throughGateway && self.operatorOptions == nil {
            throw ValidationError(
                "\(self.scenario) through the gateway needs --operator-token (ACCORD_OPERATOR_TOKEN): an agency "
                    + "records its own officers and actions, so accord-load gives each agency it acts for a token"
            )
        }
        if self.scenario == "lifecycle" && self.rate != nil {
            throw ValidationError("lifecycle runs whole journeys in a closed loop; give --concurrency, not --rate")
        }
    }

    static let scenarios = [
        "echo", "read", "write", "mixed", "lifecycle", "get", "list", "register", "submit", "evaluate", "compliance",
        "act", "report", "dossier",
    ]

    /// The operator's calls (tokens for agencies), when an operator token is given.
    var operatorOptions: CallOptions? {
        guard let token = self.operatorToken ?? ProcessInfo.processInfo.environment["ACCORD_OPERATOR_TOKEN"] else {
            return nil
        }
        return CallOptions(metadata: [MetadataKey.authorization: "Bearer \(token)"])
    }

    /// Whether calls go through the gateway (they carry a bearer token).
    var throughGateway: Bool { self.token ?? ProcessInfo.processInfo.environment["ACCORD_TOKEN"] != nil }

    /// The metadata of every call: the bearer token when one is given (calls through the gateway).
    var callOptions: CallOptions {
        var options = CallOptions()
        if let token = self.token ?? ProcessInfo.processInfo.environment["ACCORD_TOKEN"] {
            options.metadata.add(MetadataKey.authorization, "Bearer \(token)")
        }
        if let backend = self.echoBackend { options.metadata.add(MetadataKey.echoBackend, backend) }
        return options
    }

    /// The services the target hosts (from its health check), e.g. `accord.v1.Intake`.
    static func services(at endpoint: Endpoint) async throws -> Set<String> {
        let client = RPCClient(endpoints: [endpoint], configuration: Connections.configuration)
        defer { Task { await client.close() } }
        return Set(try await client.unary(HealthMethods.check, HealthCheckRequest()).services)
    }

    /// The weights of the composite scenarios on this target: `read` is gets and lists (and
    /// dossiers through the gateway); `write` is request submissions on intake and action records
    /// on supervision (both through the gateway).
    static func compositeWeights(_ scenario: String, services: Set<String>) throws -> [(String, Int)] {
        let gateway = services.contains(GatewayMethods.serviceName)
        let intake = services.contains(IntakeMethods.serviceName)
        let supervision = services.contains(SupervisionMethods.serviceName)
        switch scenario {
        case "read":
            guard intake else { throw ValidationError("read needs a target that serves intake or the gateway") }
            return gateway ? [("get", 70), ("list", 20), ("dossier", 10)] : [("get", 80), ("list", 20)]
        default:
            guard intake || supervision else {
                throw ValidationError("write needs a target that serves intake, supervision or the gateway")
            }
            return (intake ? [("submit", 50)] : []) + (supervision ? [("act", 50)] : [])
        }
    }

    /// The method and encoded request of each call: `echo` sends the same echo every time;
    /// `write` registers a new agency with the intake service (one durable write per call).
    func callMaker(
        _ scenario: String,
        _ endpoint: Endpoint
    ) async throws -> @Sendable (Int, Int) throws -> PlannedCall {
        switch scenario {
        case "get", "dossier":
            // Gets (or dossiers, through the gateway) of the agencies the target holds (the seeded
            // ICE lists, for example).
            let client = RPCClient(endpoints: [endpoint], configuration: Connections.configuration)
            let ids = try await client.unary(
                IntakeMethods.listAgencies,
                ListAgenciesRequest(page: PageRequest(pageSize: 1000)),
                options: self.callOptions
            ).agencies.compactMap(\.id)
            await client.close()
            guard !ids.isEmpty else { throw ValidationError("the target holds no agency to read; seed it first") }
            let dossier = scenario == "dossier"
            let requests = try ids.map {
                ByteBuffer(
                    bytes: dossier
                        ? try GetDossierRequest(agency: $0).serializedBytes()
                        : try GetAgencyRequest(agency: $0).serializedBytes()
                )
            }
            let path = dossier ? GatewayMethods.getDossier.path : IntakeMethods.getAgency.path
            return { worker, sequence in PlannedCall(path, requests[(worker &* 7919 &+ sequence) % requests.count]) }
        case "submit":
            // Each call submits a new participation request: agency × model × partner gives six
            // per agency, so the run first registers enough agencies for the calls to come.
            let agencies = try await Self.registerAgencies(self.seedAgencies, at: endpoint, options: self.callOptions)
            let combinations: [(Model, FederalPartner)] = [
                (.jem, .ice), (.wso, .ice), (.tfm, .ice), (.jem, .cbp), (.wso, .cbp), (.tfm, .cbp),
            ]
            let workers = self.concurrency
            return { worker, sequence in
                let call = worker + workers * (sequence - 1)
                let (model, partner) = combinations[call % 6]
                let request = ParticipationRequest(
                    agencyId: agencies[(call / 6) % agencies.count],
                    model: model,
                    partner: partner,
                    consent: Consent(officialName: "Load Official", office: "Sheriff", signedOn: "2025-01-02"),
                    needs: NeedsAssessment(expectedAnnualEncounters: 100, detentionCapacity: 10, officersProposed: 2)
                )
                let bytes = try SubmitRequestRequest(request: request, reason: "accord-load").serializedBytes()
                return PlannedCall(IntakeMethods.submitRequest.path, ByteBuffer(bytes: bytes))
            }
        case "evaluate":
            // Each call asks qualification to evaluate a new request revision (a durable write).
            let run = String(UInt64.random(in: 0..<UInt64.max), radix: 36)
            let agency = Agency(
                id: "ag_1",
                state: "TX",
                name: "Load County",
                type: .county,
                hasJail: true,
                jailCapacity: 300
            )
            return { worker, sequence in
                let request = ParticipationRequest(
                    id: "rq_\(run)_\(worker)_\(sequence)",
                    model: .jem,
                    partner: .ice,
                    consent: Consent(officialName: "Load Official", office: "Sheriff", signedOn: "2026-05-01"),
                    needs: NeedsAssessment(expectedAnnualEncounters: 500, detentionCapacity: 200, officersProposed: 3),
                    revision: 1
                )
                let bytes = try EvaluateRequestRequest(request: request, agency: agency).serializedBytes()
                return PlannedCall(QualificationMethods.evaluateRequest.path, ByteBuffer(bytes: bytes))
            }
        case "compliance":
            // Compliance of every certified officer as of a date, after certifying --seed-officers
            // officers through the API (nominate, background, enrol, exam, certify).
            try await Self.certifyOfficers(
                self.seedOfficers,
                at: endpoint,
                agenciesAt: self.intake.flatMap(Endpoint.init) ?? endpoint,
                options: self.callOptions
            )
            let request = ByteBuffer(bytes: try GetComplianceRequest(asOf: "2027-06-02").serializedBytes())
            return { _, _ in PlannedCall(QualificationMethods.getCompliance.path, request) }
        case "act":
            // Each call records a delegated action of a seeded officer: checks, one durable row, an
            // audit entry. Through the gateway the seeded agencies are registered with intake and
            // each records its own officers' actions with a token made for it.
            let agreements = self.seedAgreements
            try await SupervisionSeed.seed(
                agreements: agreements,
                officers: self.seedOfficers,
                actions: 0,
                at: endpoint,
                options: self.callOptions,
                registeringAgencies: self.throughGateway
            )
            var tokens: [CallOptions]?
            if let operatorOptions = self.operatorOptions {
                tokens = try await SupervisionSeed.agencyTokens(
                    min(agreements, self.seedOfficers),
                    at: endpoint,
                    options: self.callOptions,
                    operator: operatorOptions
                )
            }
            let agencyOptions = tokens
            let officers = self.seedOfficers
            let workers = self.concurrency
            return { worker, sequence in
                let call = worker + workers * (sequence - 1)
                let officer = call % officers
                let bytes = try SupervisionSeed.action(officer: officer, sequence: call, own: agencyOptions != nil)
                    .serializedBytes()
                return PlannedCall(
                    SupervisionMethods.recordAction.path,
                    ByteBuffer(bytes: bytes),
                    options: agencyOptions?[officer % agreements]
                )
            }
        case "report":
            try await SupervisionSeed.seed(
                agreements: self.seedAgreements,
                officers: self.seedOfficers,
                actions: self.seedActions,
                at: endpoint,
                options: self.callOptions
            )
            let request = ByteBuffer(bytes: try ProgramReportRequest().serializedBytes())
            return { _, _ in PlannedCall(SupervisionMethods.getProgramReport.path, request) }
        case "list":
            let request = ByteBuffer(
                bytes: try ListAgenciesRequest(state: "TX", page: PageRequest(pageSize: 50)).serializedBytes()
            )
            return { _, _ in PlannedCall(IntakeMethods.listAgencies.path, request) }
        case "register":
            let run = String(UInt64.random(in: 0..<UInt64.max), radix: 36)
            return { worker, sequence in
                let agency = Agency(
                    state: "TX",
                    name: "Load \(run) \(worker)-\(sequence)",
                    type: .municipality,
                    county: "Load County"
                )
                let bytes = try RegisterAgencyRequest(agency: agency, reason: "accord-load").serializedBytes()
                return PlannedCall(IntakeMethods.registerAgency.path, ByteBuffer(bytes: bytes))
            }
        case "echo":
            let request = ByteBuffer(
                bytes: try EchoRequest(payload: Array(repeating: 0x61, count: self.payload)).serializedBytes()
            )
            return { _, _ in PlannedCall(EchoMethods.unary.path, request) }
        default:
            throw ValidationError("\(scenario) is not a single operation")
        }
    }

    /// Certifies `count` WSO officers spread over 100 agencies registered first (with a jail) at
    /// `agencies`, 64 at a time (nominate, vet, enrol, the final exam, the course's 8 hours, certify).
    static func certifyOfficers(
        _ count: Int,
        at endpoint: Endpoint,
        agenciesAt agencies: Endpoint,
        options: CallOptions
    ) async throws {
        guard count > 0 else { return }
        let agencyIDs = try await Self.registerAgencies(min(100, count), at: agencies, options: options)
        let client = RPCClient(endpoints: [endpoint], configuration: Connections.configuration)
        var done = 0
        while done < count {
            let batch = min(64, count - done)
            let start = done
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in start..<(start + batch) {
                    group.addTask {
                        let officer = try await client.unary(
                            QualificationMethods.nominateOfficer,
                            NominateOfficerRequest(
                                officer: Officer(
                                    agencyId: agencyIDs[index % agencyIDs.count],
                                    model: .wso,
                                    name: "Load Officer \(index)",
                                    usCitizen: true,
                                    swornSince: "2015-01-01"
                                )
                            ),
                            options: options
                        )
                        _ = try await client.unary(
                            QualificationMethods.recordBackground,
                            RecordBackgroundRequest(
                                officerId: officer.id,
                                result: .favorable,
                                completedOn: "2025-01-01"
                            ),
                            options: options
                        )
                        _ = try await client.unary(
                            QualificationMethods.enrollOfficer,
                            EnrollOfficerRequest(officerId: officer.id),
                            options: options
                        )
                        _ = try await client.unary(
                            QualificationMethods.recordExamAttempt,
                            RecordExamAttemptRequest(
                                officerId: officer.id,
                                exam: "final",
                                score: 90,
                                takenOn: "2025-02-01"
                            ),
                            options: options
                        )
                        _ = try await client.unary(
                            QualificationMethods.completeCourse,
                            CompleteCourseRequest(officerId: officer.id, completedOn: "2025-02-01", hours: 8),
                            options: options
                        )
                        _ = try await client.unary(
                            QualificationMethods.certifyOfficer,
                            CertifyOfficerRequest(officerId: officer.id),
                            options: options
                        )
                    }
                }
                try await group.waitForAll()
            }
            done += batch
        }
        await client.close()
        FileHandle.standardError.write("certified \(count) officers for the compliance scenario\n".data(using: .utf8)!)
    }

    /// Registers `count` new agencies (64 at a time) and returns their ids.
    static func registerAgencies(_ count: Int, at endpoint: Endpoint, options: CallOptions) async throws -> [String] {
        let client = RPCClient(endpoints: [endpoint], configuration: Connections.configuration)
        let run = String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        var ids: [String] = []
        var next = 0
        while next < count {
            let batch = min(64, count - next)
            let start = next
            ids += try await withThrowingTaskGroup(of: String.self) { group in
                for index in start..<(start + batch) {
                    group.addTask {
                        try await client.unary(
                            IntakeMethods.registerAgency,
                            RegisterAgencyRequest(
                                agency: Agency(
                                    state: "TX",
                                    name: "Load \(run) \(index)",
                                    type: .county,
                                    hasJail: true,
                                    jailCapacity: 100
                                )
                            ),
                            options: options
                        ).id!
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            next += batch
        }
        await client.close()
        FileHandle.standardError.write("registered \(count) agencies for the seeds\n".data(using: .utf8)!)
        return ids
    }

    /// Opens `count` connections (256 at a time) that send their preface and then nothing.
    static func openIdle(_ count: Int, to endpoint: Endpoint) async throws -> [ClientConnection] {
        var idle: [ClientConnection] = []
        idle.reserveCapacity(count)
        while idle.count < count {
            let batch = min(256, count - idle.count)
            try await withThrowingTaskGroup(of: ClientConnection.self) { group in
                for _ in 0..<batch {
                    group.addTask {
                        try await ClientConnection.connect(to: endpoint, configuration: Connections.configuration)
                    }
                }
                for try await connection in group { idle.append(connection) }
            }
            if idle.count % 2048 < 256 || idle.count == count {
                FileHandle.standardError.write("idle connections open: \(idle.count)\n".data(using: .utf8)!)
            }
        }
        return idle
    }

    static func parseDuration(_ text: String) throws -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value >= 0 {
                return .milliseconds(Int64(value * scale * 1000))
            }
        }
        throw ValidationError("\(text) is not a duration like 10s, 500ms or 1m")
    }

    /// The operation a call counts under: its method's name.
    static func operation(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

    /// A weighted scenario (mixed, read, write): each call picks one of the operations by weight.
    func weightedMaker(
        _ weights: [(String, Int)],
        _ endpoint: Endpoint
    ) async throws -> @Sendable (Int, Int) throws -> PlannedCall {
        var makers: [(weight: Int, make: @Sendable (Int, Int) throws -> PlannedCall)] = []
        for (name, weight) in weights where weight > 0 {
            makers.append((weight, try await self.callMaker(name, endpoint)))
        }
        let total = makers.reduce(0) { $0 + $1.weight }
        let chosen = makers
        return { worker, sequence in
            var random = SplitMix64(seed: UInt64(truncatingIfNeeded: worker &* 1_000_003 &+ sequence))
            var pick = Int(random.next() % UInt64(total))
            for maker in chosen {
                if pick < maker.weight { return try maker.make(worker, sequence) }
                pick -= maker.weight
            }
            return try chosen[0].make(worker, sequence)
        }
    }

    /// "get=40,list=10,…" into scenario names and weights.
    static func parseWeights(_ text: String) throws -> [(String, Int)] {
        let allowed = ["get", "list", "dossier", "register", "submit", "act"]
        return try text.split(separator: ",").map { part in
            let pieces = part.split(separator: "=")
            guard pieces.count == 2, let weight = Int(pieces[1]), weight >= 0, allowed.contains(String(pieces[0]))
            else {
                throw ValidationError(
                    "--weights: \(part) is not NAME=WEIGHT with NAME one of \(allowed.joined(separator: ", "))"
                )
            }
            return (String(pieces[0]), weight)
        }
    }

    func run() async throws {
        Connections.configuration.tls = try self.tlsOptions.resolve()
        let endpoint = Endpoint(self.target)!
        let measure = try Self.parseDuration(self.duration)
        let warmup = try Self.parseDuration(self.warmup)
        var pool: [ClientConnection] = []
        for _ in 0..<self.connections {
            var configuration = Connections.configuration
            configuration.compressionThresholdBytes = self.compress ? 1024 : nil
            pool.append(try await ClientConnection.connect(to: endpoint, configuration: configuration))
        }
        let idle = try await Self.openIdle(self.idleConnections, to: endpoint)
        let makeCall: @Sendable (Int, Int) throws -> PlannedCall
        switch self.scenario {
        case "mixed": makeCall = try await self.weightedMaker(try Self.parseWeights(self.weights), endpoint)
        case "read", "write":
            let weights = try Self.compositeWeights(self.scenario, services: try await Self.services(at: endpoint))
            makeCall = try await self.weightedMaker(weights, endpoint)
        // Journeys make their own calls.
        case "lifecycle": makeCall = { _, _ in PlannedCall(EchoMethods.unary.path, ByteBuffer()) }
        default: makeCall = try await self.callMaker(self.scenario, endpoint)
        }
        let callOptions = self.callOptions
        let connections = pool
        let live = LiveProgress(enabled: !self.json && isatty(STDERR_FILENO) != 0)
        let progress = Task { await live.run() }
        let results: Results
        if self.scenario == "lifecycle" {
            let client = RPCClient(endpoints: [endpoint], configuration: Connections.configuration)
            results = try await Lifecycle.journeys(
                concurrency: self.concurrency,
                warmup: warmup,
                measure: measure,
                client: client,
                options: callOptions,
                operatorOptions: self.operatorOptions,
                live: live
            )
            await client.close()
        } else if let rate = self.rate {
            // The sender runs on the first connection's event loop: waking it and handing each
            // call to the connection then need no thread switch (which a pinned core makes slow).
            let arrival = Arrival(rawValue: self.arrival)!
            let total = warmup + measure
            let maxOutstanding = self.maxOutstanding
            results = try await Task(executorPreference: connections[0].executor) {
                try await Self.openLoop(
                    schedule: Schedule(
                        rate: rate,
                        arrival: arrival,
                        durationNanoseconds: UInt64(total.components.seconds) * 1_000_000_000
                            + UInt64(total.components.attoseconds / 1_000_000_000)
                    ),
                    warmup: warmup,
                    connections: connections,
                    maxOutstanding: maxOutstanding,
                    options: callOptions,
                    live: live,
                    makeCall: makeCall
                )
            }.value
        } else {
            results = try await Self.closedLoop(
                concurrency: self.concurrency,
                warmup: warmup,
                measure: measure,
                connections: connections,
                options: callOptions,
                live: live,
                makeCall: makeCall
            )
        }
        progress.cancel()
        live.finish()
        for connection in pool { await connection.close() }
        await withTaskGroup(of: Void.self) { group in
            for connection in idle { group.addTask { await connection.close() } }
        }
        let seconds = Double(measure.components.seconds) + Double(measure.components.attoseconds) / 1e18
        var settings: [(String, String)] = [
            ("target", "\"\(self.target)\""), ("concurrency", "\(self.concurrency)"),
            ("connections", "\(self.connections)"), ("payload", "\(self.payload)"), ("compress", "\(self.compress)"),
            ("idle_connections", "\(self.idleConnections)"),
        ]
        if let rate = self.rate { settings += [("rate", "\(rate)"), ("arrival", "\"\(self.arrival)\"")] }
        let report = Report(
            scenario: self.scenario,
            mode: self.rate == nil ? "closed" : "open",
            seconds: seconds,
            settings: settings,
            results: results
        )
        if self.json {
            print(report.json)
        } else {
            print(
                "scenario \(self.scenario)  \(self.rate.map { "open loop at \($0) calls/s (\(self.arrival))" } ?? "closed loop, \(self.concurrency) in flight")"
                    + "  connections \(self.connections)  payload \(self.payload) B  compression \(self.compress ? "on" : "off")"
                    + "  measured \(seconds) s"
            )
            print(report.table)
        }
        if let path = self.hdrOut {
            var text = ""
            results.total.histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1000)
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("--hdr-out: cannot write \(path): \(error)")
            }
        }
        guard results.passes(maxErrorRate: self.maxErrorRate) else {
            FileHandle.standardError.write(
                "error rate \(results.errorRate) is above --max-error-rate \(self.maxErrorRate)\n".data(using: .utf8)!
            )
            throw ExitCode(1)
        }
    }

    static func micros(_ duration: Duration) -> UInt64 {
        UInt64(max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000))
    }

    static func status(of error: any Error) -> String {
        (error as? RPCError)?.code.name ?? "CLIENT_ERROR"
    }

    /// `concurrency` callers each send their next call when the last one is answered. Latency is
    /// each call's own time, so a stalled server shows as fewer calls, not as long ones.
    static func closedLoop(
        concurrency: Int,
        warmup: Duration,
        measure: Duration,
        connections: [ClientConnection],
        options: CallOptions,
        live: LiveProgress,
        makeCall: @escaping @Sendable (Int, Int) throws -> PlannedCall
    ) async throws -> Results {
        let clock = ContinuousClock()
        let measureFrom = clock.now + warmup
        let end = measureFrom + measure
        return try await withThrowingTaskGroup(of: Results.self) { group in
            for worker in 0..<concurrency {
                let connection = connections[worker % connections.count]
                group.addTask(executorPreference: connection.executor) {
                    var results = Results()
                    var sequence = 0
                    while true {
                        let sent = clock.now
                        if sent >= end { break }
                        sequence += 1
                        let call = try makeCall(worker, sequence)
                        let operation = Self.operation(call.path)
                        do {
                            _ = try await connection.unary(
                                path: call.path,
                                request: call.request,
                                options: call.options ?? options
                            )
                            guard sent >= measureFrom else { continue }
                            let micros = Self.micros(clock.now - sent)
                            results.record(operation, micros: micros)
                            live.record(micros: micros, error: false)
                        } catch {
                            guard sent >= measureFrom else { continue }
                            results.fail(operation, status: Self.status(of: error))
                            live.record(micros: 0, error: true)
                        }
                    }
                    return results
                }
            }
            var total = Results()
            for try await results in group { total.add(results) }
            return total
        }
    }

    /// Calls sent on a schedule whatever the server does; each latency runs from the call's
    /// scheduled time, so time the calls spent waiting behind a stalled server is counted
    /// (no coordinated omission). At most `maxOutstanding` calls are in flight; beyond that the
    /// sender waits, and the wait is counted in the latency of the calls it delays.
    static func openLoop(
        schedule: Schedule,
        warmup: Duration,
        connections: [ClientConnection],
        maxOutstanding: Int,
        options: CallOptions,
        live: LiveProgress,
        makeCall: @escaping @Sendable (Int, Int) throws -> PlannedCall
    ) async throws -> Results {
        let clock = ContinuousClock()
        let start = clock.now
        let measureFrom = start + warmup
        // One shared record: a call's task only takes the lock to add one value.
        let shared = SharedResults()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var outstanding = 0
            var sequence = 0
            for offset in schedule {
                let scheduled = start + .nanoseconds(Int64(offset))
                // Sleep until the call is due (calls already due go at once, never early).
                if scheduled > clock.now { try await clock.sleep(until: scheduled, tolerance: .microseconds(50)) }
                while outstanding >= maxOutstanding, try await group.next() != nil { outstanding -= 1 }
                sequence += 1
                let connection = connections[sequence % connections.count]
                let call = try makeCall(sequence % 1024, sequence)
                let measured = scheduled >= measureFrom
                outstanding += 1
                group.addTask(executorPreference: connection.executor) {
                    let operation = Self.operation(call.path)
                    do {
                        _ = try await connection.unary(
                            path: call.path,
                            request: call.request,
                            options: call.options ?? options
                        )
                        guard measured else { return }
                        let micros = Self.micros(clock.now - scheduled)
                        shared.state.withLock { $0.record(operation, micros: micros) }
                        live.record(micros: micros, error: false)
                    } catch {
                        guard measured else { return }
                        shared.state.withLock { $0.fail(operation, status: Self.status(of: error)) }
                        live.record(micros: 0, error: true)
                    }
                }
            }
            try await group.waitForAll()
        }
        return shared.state.withLock { $0 }
    }
}

/// One call to send: its method, its encoded request and, when it differs from the run's, whom it
/// is made as (an agency's own token).
struct PlannedCall: Sendable {
    let path: String
    let request: ByteBuffer
    let options: CallOptions?

    init(_ path: String, _ request: ByteBuffer, options: CallOptions? = nil) {
        self.path = path
        self.request = request
        self.options = options
    }
}

/// The results of an open-loop run, which every call's task adds to.
final class SharedResults: Sendable {
    let state = Mutex(Results())
}

/// The connection settings every client of this run starts from: TLS as the flags say, set once
/// before the first connection.
enum Connections {
    private static let base = Mutex(ClientConfiguration())

    static var configuration: ClientConfiguration {
        get { Self.base.withLock { $0 } }
        set { Self.base.withLock { $0 = newValue } }
    }
}
