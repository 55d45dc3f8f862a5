import AccordMessages
import AccordRPC
import Foundation
import GRDB
import Testing

/// The real `accord-intake` executable: killed with SIGKILL while writes are in flight, restarted
/// on the same data directory.
@Suite("accord-intake process", .timeLimit(.minutes(3)))
struct IntakeProcessTests {
    /// What the writers were told was stored.
    actor Acknowledged {
        var agencies: [String: String] = [:]  // id -> name
        var requests: Set<String> = []
        func agency(_ id: String, _ name: String) { self.agencies[id] = name }
        func request(_ id: String) { self.requests.insert(id) }
    }

    @Test("SIGKILL during writes loses no acknowledged write and leaves nothing half-written")
    func killDuringWrites() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "accord-e2e-\(UUID().uuidString)"
        ).path
        let (first, port) = try EchoProcessTests.startServer("accord-intake", arguments: ["--data-dir", dataDirectory])
        let client = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
        let acknowledged = Acknowledged()
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        for index in 0..<10_000 {
                            let name = "Writer \(writer) Agency \(index)"
                            guard
                                let agency = try? await client.unary(
                                    IntakeMethods.registerAgency,
                                    RegisterAgencyRequest(
                                        agency: Agency(
                                            state: "TX",
                                            name: name,
                                            type: .county,
                                            hasJail: true,
                                            jailCapacity: 10
                                        )
                                    )
                                )
                            else { return }
                            await acknowledged.agency(agency.id!, name)
                            let request = ParticipationRequest(
                                agencyId: agency.id,
                                model: .jem,
                                partner: .ice,
                                consent: Consent(
                                    officialName: "Sheriff \(index)",
                                    office: "Sheriff",
                                    signedOn: "2025-01-02"
                                ),
                                needs: NeedsAssessment(
                                    expectedAnnualEncounters: 5,
                                    detentionCapacity: 10,
                                    officersProposed: 1
                                )
                            )
                            guard
                                let submitted = try? await client.unary(
                                    IntakeMethods.submitRequest,
                                    SubmitRequestRequest(request: request)
                                )
                            else { return }
                            await acknowledged.request(submitted.id!)
                        }
                    }
                }
            }
        }
        // Let the writers get going, then kill the process without warning.
        while await acknowledged.agencies.count < 300 { try await Task.sleep(nanoseconds: 10_000_000) }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        await writers.value
        await client.close()
        #expect(first.terminationReason == .uncaughtSignal)
        let agencies = await acknowledged.agencies
        let requests = await acknowledged.requests

        // Restart on the same data and read everything back through the API.
        let (second, secondPort) = try EchoProcessTests.startServer(
            "accord-intake",
            arguments: ["--data-dir", dataDirectory]
        )
        defer { second.terminate() }
        let reader = RPCClient(endpoints: [Endpoint(host: "127.0.0.1", port: secondPort)])
        var stored: [String: String] = [:]
        var token: String?
        repeat {
            let page = try await reader.unary(
                IntakeMethods.listAgencies,
                ListAgenciesRequest(page: PageRequest(pageSize: 1000, pageToken: token))
            )
            for agency in page.agencies { stored[agency.id!] = agency.name! }
            token = page.page?.nextPageToken
        } while token != nil
        for (id, name) in agencies {
            #expect(stored[id] == name, "acknowledged agency \(id) is missing after the restart")
        }
        for id in requests {
            let request = try await reader.unary(IntakeMethods.getRequest, GetRequestRequest(requestId: id))
            #expect(request.status == .received)
        }
        await reader.close()

        // Nothing half-written: every stored row has its change record, every request its outbox entry.
        let orphansQuery = """
            SELECT (SELECT COUNT(*) FROM agency WHERE 'ag_' || rowid NOT IN (SELECT entity_id FROM change_log WHERE entity = 'agency'))
                 + (SELECT COUNT(*) FROM request WHERE rowid NOT IN (SELECT subject_rowid FROM outbox WHERE kind = 'evaluate'))
            """
        let orphans: Int?
        if let server = ProcessStorage.server {
            let url = try ProcessStorage.database(for: "intake", folder: dataDirectory, on: server)
            orphans = Int(try ProcessStorage.psql(url, orphansQuery).trimmingCharacters(in: .whitespacesAndNewlines))
        } else {
            let database = try DatabaseQueue(path: "\(dataDirectory)/intake/intake.sqlite")
            orphans = try await database.read { db in try Int.fetchOne(db, sql: orphansQuery) }
        }
        #expect(orphans == 0)
        #expect(stored.count >= agencies.count)
    }
}
