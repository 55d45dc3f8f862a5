import AccordCalendar
public import AccordMessages
public import AccordRPC
import AccordServiceKit
import AccordWire
public import Logging
public import NIOCore
public import NIOPosix
import Synchronization

/// The endpoints (replicas) of one service behind the gateway: round-robin over the healthy
/// ones, a cap on calls in flight per endpoint (beyond it: RESOURCE_EXHAUSTED, not a queue), and
/// the health each endpoint last showed. An endpoint that fails its health check gets no calls
/// until one passes again; one whose own connection fails three calls in a row (refused, reset,
/// going away: never an error it answered) is ejected for a bounded, growing time, as Envoy's
/// outlier detection does, with at most half of the endpoints (at least one) out at once.
public final class BackendPool: Sendable {
    public enum Health: Sendable, Equatable {
        case unknown
        case healthy
        case unhealthy(String)
    }

    final class Member: Sendable {
        let endpoint: Endpoint
        /// One client (one connection) per event loop: a call forwarded from a server connection
        /// goes out on a connection of the same loop, so forwarding never hops between threads.
        let clients: [(loop: any EventLoop, client: RPCClient)]
        struct State {
            var health: Health = .unknown
            var inFlight = 0
            var checkedAt: Int64?
            /// What its last health check read on its simulated clock; nil on real time.
            var simulatedNow: Int64?
            /// What its last health check said degrades it, if anything.
            var degraded: String?
            /// Since when it has been unhealthy (real time), nil while it is not.
            var outSince: Int64?
            /// Ejected for its own transport failures until then (real time): no health check
            /// brings it back sooner.
            var ejectedUntil: Int64?
            /// Ejections in a row: each lasts twice the one before, up to ``Ejection/longest``.
            var ejections = 0
            /// Since when it has been back in after its last ejection.
            var backSince: Int64?

            /// Takes `health`, noting when an endpoint goes out and clearing it when it comes back;
            /// a passing check does not end an ejection early.
            mutating func set(_ health: Health, at now: Int64) {
                if case .unhealthy = health {
                    if self.outSince == nil { self.outSince = now }
                } else {
                    if let until = self.ejectedUntil, now < until { return }
                    if self.ejectedUntil != nil { self.backSince = now }
                    self.ejectedUntil = nil
                    self.outSince = nil
                }
                self.health = health
            }

            /// Takes it out for a transport failure: for ``Ejection/shortest`` the first time,
            /// twice as long each time it fails again soon after coming back, at most
            /// ``Ejection/longest``; an endpoint back for that long starts again from the shortest.
            mutating func eject(_ reason: String, at now: Int64) {
                if let back = self.backSince, now - back >= Ejection.longest { self.ejections = 0 }
                let length = min(Ejection.shortest << min(self.ejections, 16), Ejection.longest)
                self.ejections += 1
                self.ejectedUntil = max(self.ejectedUntil ?? 0, now + length)
                self.backSince = nil
                self.set(
                    .unhealthy("\(reason) (out until \(Moment.text(now + length)), ejection \(self.ejections))"),
                    at: now
                )
            }
        }
        let state = Mutex(State())
        /// Transport failures in a row since its last answer.
        let failures = Atomic(0)
        let configuration: ClientConfiguration

        init(endpoint: Endpoint, tls: ClientTLS?, group: any EventLoopGroup, logger: Logger) {
            self.endpoint = endpoint
            var configuration = ClientConfiguration()
            configuration.tls = tls
            configuration.retry.maxAttempts = 1  // the pool retries on another endpoint itself
            // No zlib between the gateway and the services (a fast network): compressing a 1 KiB
            // message and back on both hops cost more than the hop itself. Callers of the gateway
            // still get compression as they ask for it.
            configuration.compressionThresholdBytes = nil
            self.configuration = configuration
            self.clients = group.makeIterator().map { loop in
                (loop, RPCClient(endpoints: [endpoint], configuration: configuration, group: loop, logger: logger))
            }
        }

        /// The client whose connection lives on `loop`.
        func client(on loop: any EventLoop) -> RPCClient? {
            self.clients.first { $0.loop === loop }?.client
        }

        /// The client of the calling thread's event loop, else the first.
        var client: RPCClient {
            self.clients.first { $0.loop.inEventLoop }?.client ?? self.clients[0].client
        }
    }

    /// How long an endpoint is out after a transport failure, in milliseconds.
    enum Ejection {
        static let shortest: Int64 = 1_000
        static let longest: Int64 = 30_000
    }

    public let service: String
    let members: [Member]
    let maxInFlight: Int
    /// Transport failures in a row that take an endpoint out.
    let ejectAfterFailures: Int
    /// Ejection decisions, one at a time: at most half of the endpoints (at least one) are out
    /// for failures at once.
    private let ejecting = Mutex(())
    let logger: Logger
    private let cursor = Mutex(0)
    /// Retries on another endpoint spend from a budget like each client's (ten tokens, a tenth
    /// earned back per success): when a service is failing everywhere, retries stop adding to its load.
    let budget = RetryBudget(.defaults)

    public init(
        service: String,
        endpoints: [Endpoint],
        maxInFlight: Int,
        ejectAfterFailures: Int = 3,
        tls: ClientTLS? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        precondition(!endpoints.isEmpty, "\(service) needs at least one endpoint")
        self.service = service
        self.members = endpoints.map { Member(endpoint: $0, tls: tls, group: group, logger: logger) }
        self.maxInFlight = maxInFlight
        self.ejectAfterFailures = max(1, ejectAfterFailures)
        self.logger = logger
    }

    /// Picks an endpoint and counts the call in flight there; the caller must `release` it.
    func acquire(excluding excluded: Member? = nil) throws -> Member {
        let start = self.cursor.withLock { cursor -> Int in
            cursor = (cursor + 1) % self.members.count
            return cursor
        }
        var full = 0
        var candidates = 0
        // Healthy endpoints first; endpoints not checked yet only when no endpoint is known healthy.
        for pass in 0..<2 {
            for offset in 0..<self.members.count {
                let member = self.members[(start + offset) % self.members.count]
                if member === excluded { continue }
                let taken = member.state.withLock { state -> Bool? in
                    switch (pass, state.health) {
                    case (0, .healthy), (1, .unknown): break
                    default: return nil
                    }
                    guard state.inFlight < self.maxInFlight else { return false }
                    state.inFlight += 1
                    return true
                }
                switch taken {
                case true?: return member
                case false?:
                    full += 1
                    candidates += 1
                case nil: break
                }
            }
            if candidates > 0 { break }
        }
        if full > 0 {
            throw RPCError(
                .resourceExhausted,
                "\(self.service) has \(self.maxInFlight) calls in flight on each healthy endpoint; try again shortly"
            )
        }
        throw RPCError(.unavailable, "no healthy \(self.service) endpoint (\(self.describeEndpoints()))")
    }

    func release(_ member: Member) {
        member.state.withLock { $0.inFlight -= 1 }
    }

    /// It answered (whatever it answered): its run of transport failures is over.
    func answered(_ member: Member) {
        if member.failures.load(ordering: .relaxed) != 0 { member.failures.store(0, ordering: .relaxed) }
    }

    /// Its own transport failure (no connection, a reset, going away). After
    /// ``ejectAfterFailures`` in a row it is out for a bounded time that grows with repeated
    /// ejections, unless half of the endpoints (at least one) are out already: then it stays in.
    func transportFailed(_ member: Member, _ reason: String) {
        guard member.failures.wrappingAdd(1, ordering: .relaxed).newValue >= self.ejectAfterFailures else { return }
        let now = ServiceClock.realTime()
        let ejected = self.ejecting.withLock { _ -> Bool in
            let out = self.members.filter { other in
                other !== member && other.state.withLock { ($0.ejectedUntil ?? 0) > now }
            }.count
            guard out < max(1, self.members.count / 2) else { return false }
            member.failures.store(0, ordering: .relaxed)
            member.state.withLock { $0.eject(reason, at: now) }
            return true
        }
        if ejected {
            self.logger.notice(
                "Backend ejected",
                metadata: ["service": "\(self.service)", "endpoint": "\(member.endpoint)", "reason": "\(reason)"]
            )
        }
    }

    private func describeEndpoints() -> String {
        self.members.map { member in
            let health = member.state.withLock { $0.health }
            switch health {
            case .unknown: return "\(member.endpoint) not checked yet"
            case .healthy: return "\(member.endpoint) healthy"
            case .unhealthy(let reason): return "\(member.endpoint) \(reason)"
            }
        }.joined(separator: "; ")
    }

    /// Forwards a unary call's bytes; an idempotent call (or one with an idempotency key) that
    /// finds its endpoint UNAVAILABLE is tried once more on another, while the retry budget lasts.
    public func unary(
        path: String,
        request: ByteBuffer,
        options: CallOptions,
        idempotent: Bool
    ) async throws
        -> ByteBuffer
    {
        let idempotent = idempotent || options.metadata[MetadataKey.idempotencyKey] != nil
        var tried: Member?
        for attempt in 0..<2 {
            let member = try self.acquire(excluding: tried)
            defer { self.release(member) }
            do {
                let response = try await member.client.unaryRaw(
                    path: path,
                    request: request,
                    options: options,
                    retryable: false
                )
                self.budget.succeeded()
                self.answered(member)
                return response
            } catch let error as RPCError where error.code == .unavailable && !error.answeredByPeer {
                // The endpoint's own failure (no connection, a reset, going away). An UNAVAILABLE
                // it answered (a service it depends on is down) is passed on and says nothing
                // about this endpoint.
                self.transportFailed(member, error.message)
                guard idempotent, attempt == 0, self.members.count > 1 else { throw error }
                guard self.budget.spend() else { throw error }
                tried = member
            } catch let error as RPCError where error.answeredByPeer {
                self.answered(member)
                throw error
            }
        }
        throw RPCError(.unavailable, "\(self.service) did not answer")
    }

    /// A typed unary call to the service (for the gateway's composite calls).
    public func call<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        options: CallOptions
    ) async throws -> Response {
        let bytes = try await self.unary(
            path: method.path,
            request: ByteBuffer(bytes: try request.serializedBytes()),
            options: options,
            idempotent: method.isIdempotent
        )
        return try Response(serializedBytes: Array(bytes.readableBytesView))
    }

    /// Asks every endpoint's health method; runs every few seconds.
    public func checkHealth(timeout: TimeAmount, now: Int64) async {
        await withTaskGroup(of: Void.self) { group in
            for member in self.members {
                group.addTask {
                    let health: Health
                    var simulatedNow: Int64?
                    var degraded: String?
                    do {
                        let answer = try await member.client.unary(
                            HealthMethods.check,
                            HealthCheckRequest(),
                            options: CallOptions(timeout: timeout)
                        )
                        health =
                            answer.status == .serving
                            ? .healthy : .unhealthy("reports \(answer.status?.protoName ?? "?")")
                        simulatedNow = answer.simulatedNowMs
                        degraded = answer.degraded
                    } catch {
                        health = .unhealthy("\(error)")
                    }
                    // Ejections run on real time, whatever `now` the caller stamps the check with.
                    let real = ServiceClock.realTime()
                    let (before, after) = member.state.withLock { state -> (Health, Health) in
                        let before = state.health
                        state.set(health, at: real)
                        state.checkedAt = now
                        state.simulatedNow = simulatedNow
                        state.degraded = degraded
                        return (before, state.health)
                    }
                    if before != after {
                        self.logger.notice(
                            "Backend health changed",
                            metadata: [
                                "service": "\(self.service)", "endpoint": "\(member.endpoint)", "health": "\(after)",
                            ]
                        )
                    }
                }
            }
        }
    }

    public var backends: [Backend] {
        self.members.map { member in
            member.state.withLock { state in
                var backend = Backend(
                    service: self.service,
                    endpoint: member.endpoint.description,
                    inFlight: UInt32(clamping: state.inFlight),
                    checkedAtMs: state.checkedAt
                )
                backend.simulatedNowMs = state.simulatedNow
                backend.outSinceMs = state.outSince
                backend.degraded = state.degraded
                switch state.health {
                case .unknown: backend.state = .unknown
                case .healthy: backend.state = .healthy
                case .unhealthy(let reason):
                    backend.state = .unhealthy
                    backend.lastError = reason
                }
                return backend
            }
        }
    }

    /// Calls `method` on every endpoint at once (not one chosen by the balancer): what each
    /// answered, or its error, in the order of the endpoints.
    public func everyEndpoint<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        options: CallOptions
    ) async -> [(endpoint: Endpoint, result: Result<Response, any Error>)] {
        await withTaskGroup(of: (Int, Result<Response, any Error>).self) { group in
            for (index, member) in self.members.enumerated() {
                group.addTask {
                    do {
                        return (index, .success(try await member.client.unary(method, request, options: options)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [Result<Response, any Error>?] = Array(repeating: nil, count: self.members.count)
            for await (index, result) in group { results[index] = result }
            return zip(self.members, results).map { ($0.endpoint, $1!) }
        }
    }

    /// What the endpoints' simulated clocks read at real time `real`, from their last health
    /// checks (the clock runs at the pace of real time); nil on real time.
    public func simulatedNow(atRealTime real: Int64) -> Int64? {
        self.members.compactMap { member in
            member.state.withLock { state in state.simulatedNow.map { $0 + max(0, real - (state.checkedAt ?? real)) } }
        }.max()
    }

    /// Whether any endpoint's last health check read a simulated clock.
    public var simulated: Bool {
        self.members.contains { member in member.state.withLock { $0.simulatedNow != nil } }
    }

    public func close() async {
        for member in self.members {
            for (_, client) in member.clients { await client.close() }
        }
    }
}
