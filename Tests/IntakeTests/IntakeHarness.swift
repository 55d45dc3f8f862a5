import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordServiceRuntime
import AccordSheets
import AccordTestSupport
import Foundation
import Intake
import Logging

/// An intake service on a fresh SQLite file, served over loopback, with a client.
struct IntakeHarness {
    let service: IntakeService
    let server: RPCServer
    let task: Task<Void, any Error>
    let client: RPCClient
    let databasePath: String

    /// 2026-06-01T12:00:00Z unless told otherwise.
    static let fixedNow: Int64 = 1_780_315_200_000

    /// `clock` (else `.fixed(now)`), on the database at `path` (else a fresh one).
    static func start(
        now: Int64 = fixedNow,
        credential: String? = nil,
        clock: ServiceClock? = nil,
        path: String? = nil,
        accepting credentials: [String]? = nil
    ) async throws -> IntakeHarness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-intake-\(UUID().uuidString)"
        )
        let path = path ?? directory.appendingPathComponent("intake.sqlite").path
        var logger = Logger(label: "test.intake")
        logger.logLevel = .critical
        let service = try await IntakeService(
            storage: try await TestStorage.location(file: path),
            logger: logger,
            clock: clock ?? .fixed(now)
        )
        var router = RPCRouter()
        service.register(into: &router)
        Diagnostics.registerHealth(into: &router, serverName: "test-intake")
        let server = RPCServer(
            configuration: ServerConfiguration(),
            router: router,
            interceptors: [
                credentials.map { PrincipalInterceptor(accepting: $0) }
                    ?? PrincipalInterceptor(internalCredential: credential)
            ],
            logger: logger
        )
        let task = Task { try await server.run() }
        let address = try await server.localAddress
        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: address.port!)])
        return IntakeHarness(service: service, server: server, task: task, client: client, databasePath: path)
    }

    func stop() async {
        await self.client.close()
        self.server.beginGracefulShutdown()
        _ = await self.task.result
    }

    static func agency(
        _ name: String,
        state: String = "TX",
        type: AgencyType = .county,
        ori: String? = nil,
        hasJail: Bool? = true,
        capacity: UInt32? = 500
    ) -> Agency {
        Agency(
            state: state,
            name: name,
            type: type,
            county: "Travis County",
            ori: ori,
            hasJail: hasJail,
            jailCapacity: capacity
        )
    }

    func register(_ agency: Agency) async throws -> Agency {
        try await self.client.unary(IntakeMethods.registerAgency, RegisterAgencyRequest(agency: agency, reason: "test"))
    }

    static func request(
        agency: String,
        model: Model = .jem,
        partner: FederalPartner = .ice,
        signedOn: String = "2026-05-01"
    )
        -> ParticipationRequest
    {
        ParticipationRequest(
            agencyId: agency,
            model: model,
            partner: partner,
            consent: Consent(officialName: "Pat Smith", office: "Sheriff", signedOn: signedOn),
            needs: NeedsAssessment(expectedAnnualEncounters: 1200, detentionCapacity: 400, officersProposed: 6)
        )
    }

    static func sheet(_ name: String) throws -> [SheetRow] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../seeds/ice/\(name)").standardized
        return try ICESheet.rows(csv: String(contentsOf: url, encoding: .utf8))
    }

    /// Imports rows in chunks of 200, as a client would, and adds up the answers.
    func importSheet(_ rows: [SheetRow], kind: SheetKind, sheet: String) async throws -> ImportSheetResponse {
        var total = ImportSheetResponse(read: 0, imported: 0, unchanged: 0, rejected: 0)
        var start = 0
        while start < rows.count {
            let chunk = Array(rows[start..<min(start + 200, rows.count)])
            let answer = try await self.client.unary(
                IntakeMethods.importSheet,
                ImportSheetRequest(kind: kind, sheet: sheet, rows: chunk)
            )
            total.read! += answer.read ?? 0
            total.imported! += answer.imported ?? 0
            total.unchanged! += answer.unchanged ?? 0
            total.rejected! += answer.rejected ?? 0
            total.rejections += answer.rejections
            start += 200
        }
        return total
    }

    func allAgencies() async throws -> [Agency] {
        var agencies: [Agency] = []
        var token: String?
        repeat {
            let page = try await self.client.unary(
                IntakeMethods.listAgencies,
                ListAgenciesRequest(page: PageRequest(pageSize: 1000, pageToken: token))
            )
            agencies += page.agencies
            token = page.page?.nextPageToken
        } while token != nil
        return agencies
    }
}
