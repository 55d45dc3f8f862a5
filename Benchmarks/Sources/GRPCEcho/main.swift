// The side-by-side with grpc-swift-2: the same unary echo on its HTTP/2 transport (plaintext,
// loopback), with a pass-through bytes serializer so that no protobuf code is generated.
//
//   GRPCEcho server PORT
//   GRPCEcho client PORT IN_FLIGHT PAYLOAD_BYTES SECONDS   (prints one JSON line)
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

struct Bytes: MessageSerializer, MessageDeserializer {
    typealias Message = [UInt8]
    func serialize<Out: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Out { Out(message) }
    func deserialize<In: GRPCContiguousBytes>(_ bytes: In) throws -> [UInt8] { bytes.withUnsafeBytes { Array($0) } }
}

let method = MethodDescriptor(fullyQualifiedService: "accord.bench.Echo", method: "Unary")

struct EchoService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: method, deserializer: Bytes(), serializer: Bytes()) { request, _ in
            let single = try await ServerRequest(stream: request)
            return StreamingServerResponse(single: ServerResponse(message: single.message))
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let port = Int(arguments[2]) else {
    print("usage: GRPCEcho server PORT | client PORT IN_FLIGHT PAYLOAD SECONDS")
    exit(2)
}
if arguments[1] == "server" {
    let server = GRPCServer(
        transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext),
        services: [EchoService()],
        interceptorPipeline: []
    )
    try await server.serve()
} else {
    guard arguments.count == 6, let inFlight = Int(arguments[3]), let payload = Int(arguments[4]),
        let seconds = Int(arguments[5])
    else {
        print("usage: GRPCEcho client PORT IN_FLIGHT PAYLOAD SECONDS")
        exit(2)
    }
    let message = [UInt8](repeating: 0x61, count: payload)
    let clock = ContinuousClock()
    let latencies = try await withGRPCClient(
        transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
    ) { client in
        let measureFrom = clock.now + .seconds(1)
        let end = measureFrom + .seconds(seconds)
        return try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<inFlight {
                group.addTask {
                    var latencies: [Int64] = []
                    while clock.now < end {
                        let sent = clock.now
                        _ = try await client.unary(
                            request: ClientRequest(message: message),
                            descriptor: method,
                            serializer: Bytes(),
                            deserializer: Bytes(),
                            options: .defaults
                        ) { try $0.message }
                        if sent >= measureFrom {
                            let elapsed = clock.now - sent
                            latencies.append(
                                elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds
                                    / 1_000_000_000_000
                            )
                        }
                    }
                    return latencies
                }
            }
            var all: [Int64] = []
            for try await part in group { all += part }
            return all.sorted()
        }
    }
    func percentile(_ q: Double) -> Int64 {
        latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]
    }
    print(
        #"{"baseline":"grpc-swift-2","in_flight":\#(inFlight),"payload":\#(payload),"throughput":\#(latencies.count / seconds),"#
            + #""latency_us":{"p50":\#(percentile(0.5)),"p90":\#(percentile(0.9)),"p99":\#(percentile(0.99)),"p999":\#(percentile(0.999)),"max":\#(latencies.last ?? 0)}}"#
    )
}
