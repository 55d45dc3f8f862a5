import AccordMessages
public import AccordRPC
public import AccordServiceKit
public import AccordStorage
public import Logging

/// The intake service: agencies, participation requests and ICE sheet import. The handlers
/// validate, authorize and call the store; `accord-intake` only reads its flags and runs it.
public final class IntakeService: Sendable {
    let store: any IntakeStore
    let clock: ServiceClock
    /// The clock as callers see it (`accord.v1.Clock`), kept with the data when simulated.
    public let clockKeeper: ClockKeeper
    let logger: Logger

    /// Largest chunk of an ICE sheet per call.
    static let maxRowsPerImport = 1000

    /// Opens (or creates) the intake database and migrates it.
    public init(storage: StorageLocation, logger: Logger, clock: ServiceClock = .system) async throws {
        let store = try await SQLIntakeStore(storage, logger: logger)
        self.clockKeeper = try await ClockKeeper.open(
            clock,
            database: store.database,
            server: "accord-intake",
            logger: logger
        )
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    /// Intake on the SQLite file at `databasePath`.
    public convenience init(databasePath: String, logger: Logger, clock: ServiceClock = .system) async throws {
        try await self.init(storage: .sqlite(path: databasePath), logger: logger, clock: clock)
    }

    /// Adds every intake method to `router`.
    public func register(into router: inout RPCRouter) {
        router.register(IntakeMethods.registerAgency) { try await self.registerAgency($0, $1) }
        router.register(IntakeMethods.updateAgency) { try await self.updateAgency($0, $1) }
        router.register(IntakeMethods.getAgency) { try await self.getAgency($0, $1) }
        router.register(IntakeMethods.listAgencies) { try await self.listAgencies($0, $1) }
        router.register(IntakeMethods.exportAgencies) { try await self.exportAgencies($0, $1, $2) }
        router.register(IntakeMethods.submitRequest) { try await self.submitRequest($0, $1) }
        router.register(IntakeMethods.amendRequest) { try await self.amendRequest($0, $1) }
        router.register(IntakeMethods.withdrawRequest) { try await self.withdrawRequest($0, $1) }
        router.register(IntakeMethods.getRequest) { try await self.getRequest($0, $1) }
        router.register(IntakeMethods.listRequests) { try await self.listRequests($0, $1) }
        router.register(IntakeMethods.recordDecision) { try await self.recordDecision($0, $1) }
        router.register(IntakeMethods.recordAgreementProgress) { try await self.recordAgreementProgress($0, $1) }
        router.register(IntakeMethods.getRequestReport) { try await self.requestReport($0, $1) }
        router.register(IntakeMethods.importSheet) { try await self.importSheet($0, $1) }
        router.register(IntakeMethods.listImportedAgreements) { try await self.listImportedAgreements($0, $1) }
        router.register(IntakeMethods.recordEngagement) { try await self.recordEngagement($0, $1) }
        router.register(IntakeMethods.listEngagements) { try await self.listEngagements($0, $1) }
        self.clockKeeper.register(into: &router)
    }

    /// What the change log records of a change the caller makes now: the principal's name and
    /// role, the moment, and the reason given.
    func stamp(_ context: ServerContext, why: String?) -> ChangeStamp {
        ChangeStamp(who: context.principal?.description ?? "unknown", at: self.clock.now(), why: why)
    }

    /// The reason a change request gives, checked.
    static func reason(_ text: String?) throws -> String? {
        try IntakeValidation.optionalText(text, field: "reason", maxLength: IntakeValidation.maxReasonLength)
    }

    var today: CalendarDate { CalendarDate(unixMilliseconds: self.clock.now()) }
}
