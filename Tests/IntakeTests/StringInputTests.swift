import AccordMessages
import AccordRPC
import AccordServiceKit
import AccordWire
import NIOCore
import Testing

@Suite("Strings protobuf-c cannot hold, sent to a running intake", .timeLimit(.minutes(1)))
struct StringInputTests {
    /// `message` encoded, with every byte `from` replaced by `to` (a SOH becomes a NUL, say:
    /// the encoder refuses NUL, a hostile client does not).
    static func encoded(_ message: some ProtoMessage, replacing from: UInt8, with to: UInt8) throws -> ByteBuffer {
        ByteBuffer(bytes: try message.serializedBytes().map { $0 == from ? to : $0 })
    }

    static func refusal(_ body: () async throws -> ByteBuffer) async -> RPCError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? RPCError
        }
    }

    @Test("a state or a name with a NUL, or not UTF-8, is INVALID_ARGUMENT naming the field; nothing is stored")
    func refused() async throws {
        let intake = try await IntakeHarness.start()
        let texas = try await intake.register(IntakeHarness.agency("Travis County Sheriff's Office"))
        let office = CallOptions(metadata: [TrustMetadata.principal: "program-office"])

        let list = try Self.encoded(ListAgenciesRequest(state: "TX\u{1}ZZ"), replacing: 0x01, with: 0x00)
        let listed = await Self.refusal {
            try await intake.client.unaryRaw(
                path: IntakeMethods.listAgencies.path,
                request: list,
                options: office,
                retryable: false
            )
        }
        #expect(listed?.code == .invalidArgument)
        #expect(listed?.errorDetails?.fieldViolations.first?.field == "state")
        #expect(listed?.message.contains("NUL") == true)

        let register = RegisterAgencyRequest(
            agency: IntakeHarness.agency("Hays County Sheriff's Office\u{1}Extra"),
            reason: "new"
        )
        let withNUL = try Self.encoded(register, replacing: 0x01, with: 0x00)
        let notUTF8 = try Self.encoded(register, replacing: 0x01, with: 0xFF)
        for (bytes, problem) in [(withNUL, "NUL"), (notUTF8, "UTF-8")] {
            let refused = await Self.refusal {
                try await intake.client.unaryRaw(
                    path: IntakeMethods.registerAgency.path,
                    request: bytes,
                    options: office,
                    retryable: false
                )
            }
            #expect(refused?.code == .invalidArgument)
            #expect(refused?.errorDetails?.fieldViolations.first?.field == "agency.name")
            #expect(refused?.message.contains(problem) == true)
        }
        let all = try await intake.client.unary(IntakeMethods.listAgencies, ListAgenciesRequest(), options: office)
        #expect(all.agencies.map(\.id) == [texas.id])
        await intake.stop()
    }
}
