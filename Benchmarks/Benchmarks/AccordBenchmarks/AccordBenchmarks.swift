import AccordMessages
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
