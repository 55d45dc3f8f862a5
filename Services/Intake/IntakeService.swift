import AccordMessages
public import AccordRPC
import AccordStorage
public import Logging

/// The intake service: agencies, participation requests and ICE sheet import, over one SQLite
/// database. All logic is here; `accord-intake` only reads its flags and runs it.
public final class IntakeService: Sendable {
    let store: SQLiteStore
    /// Unix milliseconds now; tests inject a fixed clock.
    let now: @Sendable () -> Int64
    let logger: Logger

    /// Largest chunk of an ICE sheet per call.
    static let maxRowsPerImport = 1000

    /// Opens (or creates) the intake database at `databasePath` and migrates it.
    public init(
        databasePath: String,
        logger: Logger,
        now: @escaping @Sendable () -> Int64 = IntakeService.systemNow
    ) throws {
        self.store = try SQLiteStore(path: databasePath, migrations: IntakeSchema.migrations, logger: logger)
        self.now = now
        self.logger = logger
    }

    public static let systemNow: @Sendable () -> Int64 = {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
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
    }

    /// Who is calling, for the change log: the principal's name and role.
    func who(_ context: ServerContext) -> String {
        context.principal?.description ?? "unknown"
    }

    var today: CalendarDate { CalendarDate(unixMilliseconds: self.now()) }
}

#if canImport(Glibc)
import Glibc
#endif
