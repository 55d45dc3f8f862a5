import AccordCalendar
import AccordMessages
public import AccordRPC
public import AccordServiceKit
public import AccordStorage
import AccordWire
public import Logging
public import NIOCore

/// The supervision service: agreements, supervisors, authorization of certified officers,
/// delegated actions checked when they are recorded, review, complaints, inspections, meetings,
/// program reports and the audit trail. All logic is here; `accord-supervision` only reads its
/// flags and runs it.
public final class SupervisionService: Sendable {
    let store: any SupervisionStore
    let rules: SupervisionRules
    let backends: Backends
    let clock: ServiceClock
    /// The clock as callers see it (`accord.v1.Clock`), kept with the data when simulated.
    public let clockKeeper: ClockKeeper
    let logger: Logger
    /// This process among the replicas, for the turns at periodic work.
    let instance = "supervision-\(UInt64.random(in: 1...UInt64.max))"

    /// The other services supervision asks at the moment of a decision.
    public struct Backends: Sendable {
        /// Checks that an officer is certified when they are authorized.
        public var qualification: RPCClient?
        /// Checks that a request is qualified when an agreement is offered from it.
        public var intake: RPCClient?
        /// Presented so that the principal "program-office:supervision" is accepted.
        public var internalCredential: InternalCredentials?
        public var callTimeout: TimeAmount

        public init(
            qualification: RPCClient? = nil,
            intake: RPCClient? = nil,
            internalCredential: InternalCredentials? = nil,
            callTimeout: TimeAmount = .seconds(2)
        ) {
            self.qualification = qualification
            self.intake = intake
            self.internalCredential = internalCredential
            self.callTimeout = callTimeout
        }

        var callOptions: CallOptions {
            CallOptions(
                timeout: self.callTimeout,
                metadata: TrustMetadata.asserting(
                    Principal(role: .programOffice, name: "supervision"),
                    internalCredential: self.internalCredential
                )
            )
        }
    }

    /// Opens (or creates) the supervision database and migrates it.
    public init(
        storage: StorageLocation,
        rules: SupervisionRules,
        backends: Backends = Backends(),
        logger: Logger,
        clock: ServiceClock = .system
    ) async throws {
        let store = try await SQLSupervisionStore(storage, logger: logger)
        self.clockKeeper = try await ClockKeeper.open(
            clock,
            database: store.database,
            server: "accord-supervision",
            logger: logger
        )
        self.store = store
        self.rules = rules
        self.backends = backends
        self.clock = clock
        self.logger = logger
    }

    /// Supervision on the SQLite file at `databasePath`.
    public convenience init(
        databasePath: String,
        rules: SupervisionRules,
        backends: Backends = Backends(),
        logger: Logger,
        clock: ServiceClock = .system
    ) async throws {
        try await self.init(
            storage: .sqlite(path: databasePath),
            rules: rules,
            backends: backends,
            logger: logger,
            clock: clock
        )
    }

    /// Adds every supervision method to `router`.
    public func register(into router: inout RPCRouter) {
        self.registerAgreements(into: &router)
        self.registerAuthorizations(into: &router)
        self.registerActions(into: &router)
        self.registerOversight(into: &router)
        router.register(SupervisionMethods.getProgramReport) { try await self.programReport($0, $1) }
        router.register(SupervisionMethods.listAudit) { try await self.listAudit($0, $1) }
        router.register(SupervisionMethods.verifyAudit) { try await self.verifyAudit($0, $1) }
        self.clockKeeper.register(into: &router)
    }

    public func close() async {
        await self.backends.qualification?.close()
        await self.backends.intake?.close()
    }

    var today: Day { Day(unixMilliseconds: self.clock.now()) }

    /// A list's `as_of_ms`: nil for now (absent, within a minute of now, or later today, as the
    /// end of today's date means); a later moment is refused (a list shows what was on record,
    /// not a projection).
    static func pastMoment(_ moment: Int64?, now: Int64, field: String = "as_of_ms") throws -> Int64? {
        guard let moment else { return nil }
        guard moment > 0 else { throw RPCError.invalidArgument(field: field, "\(moment) is not a moment") }
        if moment >= now && Day(unixMilliseconds: moment) == Day(unixMilliseconds: now) { return nil }
        guard moment <= now + 60_000 else {
            throw RPCError.invalidArgument(
                field: field,
                "\(Moment.text(moment)) is later than now (\(Moment.text(now))): lists show what is on record; the program report projects"
            )
        }
        return moment < now ? moment : nil
    }

    /// Whether this replica does periodic work `job` now (one replica at a time does it; another
    /// takes over when the holder has not renewed its turn for `lease`).
    func takeTurn(_ job: String, lease: Duration) async throws -> Bool {
        try await self.store.takeTurn(job, holder: self.instance, now: self.clock.now(), lease: lease.wholeMilliseconds)
    }

    /// What the audit trail records of a change the caller makes now.
    func stamp(_ principal: Principal, why: String? = nil) -> Change {
        ChangeStamp(who: principal.description, at: self.clock.now(), why: why)
    }

    // MARK: Access (ARCHITECTURE.md, "Trust")

    func caller(_ context: ServerContext) throws -> Principal {
        guard let principal = context.principal else {
            throw RPCError(.unauthenticated, "the call carries no principal")
        }
        return principal
    }

    /// An agency principal reads only its own records.
    func requireSees(_ principal: Principal, agencyID: String, what: String) throws {
        if principal.role == .agency && principal.scope != agencyID {
            throw RPCError(.permissionDenied, "\(principal.header) may not see \(what) of \(agencyID)")
        }
    }

    // MARK: Ids and fields

    static func id(_ prefix: String, _ rowid: Int64) -> String { SupervisionRows.id(prefix, rowid) }

    static func rowid(_ id: String?, prefix: String, field: String, what: String) throws -> Int64 {
        guard let id, id.hasPrefix("\(prefix)_"), let rowid = Int64(id.dropFirst(prefix.count + 1)), rowid > 0 else {
            throw RPCError.invalidArgument(field: field, "\(id.map { "\"\($0)\"" } ?? "nothing") is not \(what) id")
        }
        return rowid
    }

    /// Trimmed text with runs of white space made one space; required unless `optional`.
    static func text(_ value: String?, field: String, max: Int = 200, optional: Bool = false) throws -> String? {
        let trimmed = value?.split(whereSeparator: \.isWhitespace).joined(separator: " ") ?? ""
        if trimmed.isEmpty {
            if optional { return nil }
            throw RPCError.invalidArgument(field: field, "is required")
        }
        guard trimmed.count <= max else {
            throw RPCError.invalidArgument(field: field, "is longer than \(max) characters")
        }
        return trimmed
    }

    /// A "YYYY-MM-DD" date, or `default` when absent.
    static func day(_ value: String?, field: String, default fallback: Day? = nil) throws -> Day {
        guard let value else {
            if let fallback { return fallback }
            throw RPCError.invalidArgument(field: field, "is required (YYYY-MM-DD)")
        }
        guard let day = Day(value) else {
            throw RPCError.invalidArgument(field: field, "\"\(value)\" is not a date (YYYY-MM-DD)")
        }
        return day
    }

    static func known<E: ProtoEnum>(_ value: E?, field: String, required: Bool = true) throws -> E? {
        guard let value else {
            if required { throw RPCError.invalidArgument(field: field, "is required") }
            return nil
        }
        guard value.isKnownAndSpecified else {
            throw RPCError.invalidArgument(field: field, "\(value.protoName) is not a valid value")
        }
        return value
    }
}
