import AccordCalendar
public import AccordMessages
public import AccordRPC
public import AccordStorage
public import Logging
public import ServiceLifecycle

/// A service's clock as its callers see it: reconciles a simulated clock with the moves kept in
/// the service's database when the service opens, answers `accord.v1.Clock`, and follows the
/// moves other replicas record. On real time it only refuses a database that was run on a
/// simulated clock, so that simulated and real facts never mix.
public struct ClockKeeper: Sendable {
    public let clock: ServiceClock
    let database: any SQLDatabase
    /// The server's name in answers, e.g. "accord-intake".
    let server: String
    let logger: Logger

    /// How often a simulated clock reads the latest move from the database.
    public static let followInterval = Duration.seconds(2)

    /// What stops a service from starting on this clock.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reconciles `clock` with the moves stored in `database`: a fresh database records the
    /// start; a restart goes on from the stored time, or moves forward to a later requested
    /// start; a database run on a simulated clock refuses real time.
    public static func open(
        _ clock: ServiceClock,
        database: any SQLDatabase,
        server: String,
        logger: Logger
    ) async throws -> ClockKeeper {
        let keeper = ClockKeeper(clock: clock, database: database, server: server, logger: logger)
        let latest = try await SimulatedClockRecords.latest(database)
        guard let simulation = clock.simulation else {
            if let latest {
                throw Refusal(
                    description: """
                        this database ran on a simulated clock (last moved to \(Moment.text(latest.movedToMs)) by \
                        \(latest.movedBy)): start with --simulated-clock and --non-production to go on with it, or \
                        use another database for real time
                        """
                )
            }
            return keeper
        }
        let real = ServiceClock.realTime()
        // The time the stored moves say it is; a start the flag names counts only if later ("now"
        // goes on from the stored time).
        let stored = latest.map { real + $0.offsetMs }
        if let latest { simulation.resume(offset: latest.offsetMs) }
        let requested = simulation.requestedStart ?? real
        let movesOn = stored.map { now in simulation.requestedStart.map { $0 > now } ?? false } ?? true
        if movesOn {
            let move = SimulatedClockRecords.Move(
                offsetMs: requested - real,
                movedToMs: requested,
                movedAtMs: real,
                movedBy: server,
                reason: latest == nil ? "started on a simulated clock" : "restarted with a later --simulated-clock"
            )
            simulation.adopt(offset: try await SimulatedClockRecords.record(move, in: database).offsetMs)
        } else if let start = simulation.requestedStart {
            logger.notice(
                "The simulated clock goes on from where it was: it never goes back",
                metadata: ["now": "\(Moment.text(clock.now()))", "requested": "\(Moment.text(start))"]
            )
        }
        logger.notice(
            "Running on a SIMULATED CLOCK, not real time",
            metadata: ["now": "\(Moment.text(clock.now()))", "offset_ms": "\(simulation.offset)"]
        )
        return keeper
    }

    /// Adds `accord.v1.Clock` to `router`.
    public func register(into router: inout RPCRouter) {
        router.register(ClockMethods.getClock) { _, context in
            guard context.principal != nil else { throw RPCError(.unauthenticated, "the call carries no principal") }
            return try await self.state()
        }
        router.register(ClockMethods.advanceClock) { request, context in
            try await self.advance(request, context)
        }
    }

    /// This server's clock now.
    public func state() async throws -> ClockState {
        var state = ClockState(server: self.server, simulated: self.clock.simulation != nil, nowMs: self.clock.now())
        state.offsetMs = self.clock.simulation?.offset ?? 0
        if self.clock.simulation != nil, let latest = try await SimulatedClockRecords.latest(self.database) {
            state.movedToMs = latest.movedToMs
            state.movedAtMs = latest.movedAtMs
            state.movedBy = latest.movedBy
            state.reason = latest.reason
        }
        return state
    }

    func advance(_ request: AdvanceClockRequest, _ context: ServerContext) async throws -> ClockState {
        guard let principal = context.principal else {
            throw RPCError(.unauthenticated, "the call carries no principal")
        }
        guard let simulation = self.clock.simulation else {
            throw RPCError(
                .failedPrecondition,
                "\(self.server) runs on real time: only a deployment started with --simulated-clock can move its clock"
            )
        }
        guard let target = request.toMs else { throw RPCError.invalidArgument(field: "to_ms", "is required") }
        let reason = (request.reason ?? "").trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw RPCError.invalidArgument(field: "reason", "is required") }
        guard reason.utf8.count <= 500 else {
            throw RPCError.invalidArgument(field: "reason", "is longer than 500 bytes")
        }
        if let latest = try await SimulatedClockRecords.latest(self.database), latest.movedToMs == target {
            simulation.adopt(offset: latest.offsetMs)  // asked again: already there
            return try await self.state()
        }
        let now = self.clock.now()
        guard target > now else {
            throw RPCError(
                .failedPrecondition,
                "to_ms \(Moment.text(target)) is not later than the simulated clock (\(Moment.text(now))): it never goes back"
            )
        }
        let real = ServiceClock.realTime()
        let move = SimulatedClockRecords.Move(
            offsetMs: target - real,
            movedToMs: target,
            movedAtMs: real,
            movedBy: principal.description,
            reason: reason
        )
        simulation.adopt(offset: try await SimulatedClockRecords.record(move, in: self.database).offsetMs)
        self.logger.notice(
            "The simulated clock moved forward",
            metadata: ["to": "\(Moment.text(target))", "by": "\(principal.description)", "reason": "\(reason)"]
        )
        return try await self.state()
    }

    /// Follows the moves other replicas record, for a simulated clock; nil on real time.
    public var follower: (any Service)? {
        guard let simulation = self.clock.simulation else { return nil }
        let database = self.database
        return OutboxLoop(
            name: "simulated clock",
            pollInterval: Self.followInterval,
            maxBackoff: .seconds(30),
            logger: self.logger,
            deliver: {
                if let latest = try await SimulatedClockRecords.latest(database) {
                    simulation.adopt(offset: latest.offsetMs)
                }
                return 0
            }
        )
    }
}
