// swift-tools-version: 6.1
import PackageDescription

/// Benchmarks live in their own package so that the main build never depends on the benchmark
/// framework. Run them with `make bench` from the repository root, or here with
/// `swift package --allow-writing-to-package-directory benchmark`.
let package = Package(
    name: "accord-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "accord", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    ],
    targets: [
        .executableTarget(
            name: "AccordBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AccordRPC", package: "accord"),
                .product(name: "AccordWire", package: "accord"),
                .product(name: "AccordMessages", package: "accord"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/AccordBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The side-by-side: the same echo on grpc-swift-2 and its HTTP/2 NIO transport.
        .executableTarget(
            name: "GRPCEcho",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            path: "Sources/GRPCEcho"
        ),
        // The reference for the echo figures: plain SwiftNIO, length-prefixed frames, no RPC.
        .executableTarget(
            name: "NIOEchoBaseline",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/NIOEchoBaseline"
        ),
        // The floor for the gateway's hop: plain SwiftNIO relaying TCP bytes, beside HAProxy.
        .executableTarget(
            name: "NIORelayBaseline",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/NIORelayBaseline"
        ),
    ]
)
