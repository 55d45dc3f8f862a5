import AccordMessages
import AccordRPC
import AccordWire
import Benchmark
import NIOCore

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 100,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    let echo = EchoRequest(payload: Array(repeating: 0x61, count: 64))
    let echoBytes = try! echo.serializedBytes()

    Benchmark("Message encode: EchoRequest 64 B") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try echo.withSerializedBytes { $0.count })
        }
    }

    Benchmark("Message decode: EchoRequest 64 B") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try EchoRequest(serializedBytes: echoBytes))
        }
    }

    let details = ErrorDetails(
        reason: "INVALID_ARGUMENT",
        fieldViolations: (0..<20).map { FieldViolation(field: "field_\($0)", description: "is not valid: \($0)") },
        retryAfterMs: 1000,
        metadata: (0..<10).map { KeyValue(key: "key_\($0)", value: "value \($0)") }
    )
    let detailsBytes = try! details.serializedBytes()

    Benchmark("Message encode: ErrorDetails, 30 nested") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try details.withSerializedBytes { $0.count })
        }
    }

    Benchmark("Message decode: ErrorDetails, 30 nested") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ErrorDetails(serializedBytes: detailsBytes))
        }
    }

    // The largest message a service sends: an agency's dossier from the gateway.
    let dossier = Dossier(
        agency: Agency(id: "ag_1", state: "TX", name: "Harris County Sheriff's Office", type: .county, hasJail: true),
        requests: (0..<20).map {
            ParticipationRequest(
                id: "rq_\($0)",
                agencyId: "ag_1",
                model: .jem,
                partner: .ice,
                consent: Consent(officialName: "Sheriff", office: "Sheriff", signedOn: "2026-01-02"),
                status: .qualified,
                revision: 1,
                deficiencies: [Deficiency(code: "NO_JAIL", message: "JEM needs a jail or correctional facility")]
            )
        },
        officers: (0..<50).map {
            Officer(
                id: "of_\($0)",
                agencyId: "ag_1",
                model: .jem,
                name: "Officer \($0)",
                status: .certified,
                certifiedOn: "2026-03-01"
            )
        },
        training: (0..<50).map {
            OfficerCompliance(
                officerId: "of_\($0)",
                agencyId: "ag_1",
                model: .jem,
                status: .current,
                courses: [CourseStatus(course: "JEM refresher", dueOn: "2028-03-01", status: .current)]
            )
        },
        agreements: (0..<3).map {
            Agreement(id: "mo_\($0)", agencyId: "ag_1", state: "TX", status: .active, effectiveOn: "2025-05-08")
        },
        authorizations: (0..<50).map {
            Authorization(
                id: "az_\($0)",
                officerId: "of_\($0)",
                agreementId: "mo_0",
                status: .active,
                functions: [.detainer, .transport]
            )
        },
        recentActions: (0..<20).map {
            DelegatedAction(
                id: "ac_\($0)",
                officerId: "of_1",
                function: .detainer,
                place: .jail,
                subjectRef: "BK-\($0)",
                decision: .accepted
            )
        }
    )
    let dossierBytes = try! dossier.serializedBytes()

    Benchmark("Message encode: Dossier, \(dossierBytes.count) B") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try dossier.withSerializedBytes { $0.count })
        }
    }

    Benchmark("Message decode: Dossier, \(dossierBytes.count) B") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Dossier(serializedBytes: dossierBytes))
        }
    }

    // A MESSAGE frame of the dossier as a connection writes it, compression off and on (zlib
    // level 6, as connections use when the message is at least the compression threshold), and
    // the inflate a receiver does.
    let dossierMessage = ByteBuffer(bytes: dossierBytes)
    Benchmark("Frame encode: MESSAGE Dossier, compression off") { benchmark in
        var buffer = ByteBuffer()
        for _ in benchmark.scaledIterations {
            buffer.clear()
            buffer.writeMessageFrame(callID: 1, flags: .endStream, message: dossierMessage, compressor: nil)
            blackHole(buffer.readableBytes)
        }
    }
    let compressor = ZlibCompressor()
    var compressedDossier = ByteBuffer()
    _ = compressor.compress(dossierMessage, into: &compressedDossier)
    Benchmark(
        "Frame encode: MESSAGE Dossier, zlib (\(dossierBytes.count) to \(compressedDossier.readableBytes) B)"
    ) { benchmark in
        var buffer = ByteBuffer()
        for _ in benchmark.scaledIterations {
            buffer.clear()
            buffer.writeMessageFrame(callID: 1, flags: .endStream, message: dossierMessage, compressor: compressor)
            blackHole(buffer.readableBytes)
        }
    }
    let decompressor = ZlibDecompressor()
    Benchmark("Frame decode: inflate the zlib Dossier") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try decompressor.decompress(compressedDossier, limit: 4 << 20, allocator: ByteBufferAllocator())
                    .readableBytes
            )
        }
    }

    let headers = CallHeaders(
        method: "/accord.v1.Echo/Unary",
        timeoutMilliseconds: 1000,
        metadata: ["authorization": "Bearer 0123456789abcdef", "trace-id": "t-1"]
    )
    Benchmark("Frame encode: HEADERS + MESSAGE 64 B") { benchmark in
        var buffer = ByteBuffer()
        let payload = ByteBuffer(bytes: echoBytes)
        for _ in benchmark.scaledIterations {
            buffer.clear()
            buffer.writeFrame(type: .headers, callID: 1) { headers.encode(into: &$0) }
            buffer.writeFrame(Frame(type: .message, flags: .endStream, callID: 1, payload: payload))
            blackHole(buffer.readableBytes)
        }
    }

    var stream = ByteBuffer()
    stream.writeFrame(type: .headers, callID: 1) { headers.encode(into: &$0) }
    stream.writeFrame(Frame(type: .message, flags: .endStream, callID: 1, payload: ByteBuffer(bytes: echoBytes)))
    Benchmark("Frame decode: HEADERS + MESSAGE 64 B") { benchmark in
        for _ in benchmark.scaledIterations {
            var decoder = WireDecoder(peerRole: .client, maxFrameLength: 4 << 20, expectsPreface: false)
            var input = stream
            while case .frame(let frame)? = try decoder.decode(buffer: &input) {
                if frame.type == .headers { blackHole(try CallHeaders.decode(from: frame.payload)) }
            }
        }
    }
}
