// swift-tools-version: 6.1
import PackageDescription

/// Every target builds in the Swift 6 language mode with strict concurrency checking.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "accord",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "accord-echo", targets: ["AccordEchoServer"]),
        .executable(name: "accord-intake", targets: ["AccordIntakeServer"]),
        .executable(name: "accord-qualification", targets: ["AccordQualificationServer"]),
        .executable(name: "accord-supervision", targets: ["AccordSupervisionServer"]),
        .executable(name: "accord-gateway", targets: ["AccordGatewayServer"]),
        .executable(name: "accord", targets: ["AccordCLI"]),
        .executable(name: "accord-load", targets: ["AccordLoad"]),
        .executable(name: "accord-backup", targets: ["AccordBackup"]),
        .library(name: "AccordMessages", targets: ["AccordMessages"]),
        .library(name: "AccordWire", targets: ["AccordWire"]),
        .library(name: "AccordRPC", targets: ["AccordRPC"]),
        .library(name: "AccordServiceRuntime", targets: ["AccordServiceRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // MARK: C: protoc-c output and zlib. Only AccordMessages and AccordRPC import these.
        .target(
            name: "CAccordProto",
            path: "Shared/CAccordProto",
            cSettings: [.headerSearchPath(".")],
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .target(
            name: "CAccordZlib",
            path: "Shared/CAccordZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),

        // MARK: Messages: Swift value types over the C schemas (no pointers above this module).
        .target(
            name: "AccordMessages",
            dependencies: ["CAccordProto"],
            path: "Shared/AccordMessages",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordMessagesTests",
            dependencies: ["AccordMessages"],
            path: "Tests/AccordMessagesTests",
            swiftSettings: swiftSettings
        ),

        // MARK: Wire: frames and bytes only, no messages.
        .target(
            name: "AccordWire",
            dependencies: ["CAccordZlib", .product(name: "NIOCore", package: "swift-nio")],
            path: "Shared/AccordWire",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordWireTests",
            dependencies: [
                "AccordWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            path: "Tests/AccordWireTests",
            swiftSettings: swiftSettings
        ),

        // MARK: RPC runtime: server, client, compression, deadlines, interceptors.
        .target(
            name: "AccordRPC",
            dependencies: [
                "AccordWire",
                "AccordMessages",
                "CAccordZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/AccordRPC",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordRPCTests",
            dependencies: [
                "AccordServiceKit",
                "AccordRPC",
                "AccordWire",
                "AccordMessages",
                "AccordServiceRuntime",
                "CAccordZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            path: "Tests/AccordRPCTests",
            swiftSettings: swiftSettings
        ),

        // MARK: Service kit: principals and roles, the injected clock, outbox delivery.
        .target(
            name: "AccordServiceKit",
            dependencies: [
                "AccordRPC",
                "AccordCalendar",
                "AccordStorage",
                "AccordWire",
                "AccordMessages",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/AccordServiceKit",
            swiftSettings: swiftSettings
        ),

        // MARK: Calendar days, as the program's documents and rules count them.
        .target(name: "AccordCalendar", path: "Shared/AccordCalendar", swiftSettings: swiftSettings),
        .testTarget(
            name: "AccordCalendarTests",
            dependencies: ["AccordCalendar"],
            path: "Tests/AccordCalendarTests",
            swiftSettings: swiftSettings
        ),

        // MARK: CSV, for the sheets and rule tables the services read.
        .target(name: "AccordCSV", path: "Shared/AccordCSV", swiftSettings: swiftSettings),

        // MARK: ICE's published sheets, read by intake's seeding and the CLI.
        .target(
            name: "AccordSheets",
            dependencies: ["AccordCSV", "AccordMessages"],
            path: "Shared/AccordSheets",
            swiftSettings: swiftSettings
        ),

        // MARK: Paging of lists: tokens tied to their query's filters.
        .target(
            name: "AccordPaging",
            dependencies: ["AccordRPC", "AccordMessages"],
            path: "Shared/AccordPaging",
            swiftSettings: swiftSettings
        ),

        // MARK: Storage: one SQL layer over SQLite (WAL, group commit, through GRDB) and PostgreSQL.
        .target(
            name: "AccordStorage",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/AccordStorage",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordStorageTests",
            dependencies: [
                "AccordTestSupport", "AccordStorage", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/AccordStorageTests",
            swiftSettings: swiftSettings
        ),

        // MARK: What the tests share: a fresh storage location on SQLite or on the test PostgreSQL server.
        .target(
            name: "AccordTestSupport",
            dependencies: ["AccordStorage", .product(name: "Logging", package: "swift-log")],
            path: "Tests/AccordTestSupport",
            swiftSettings: swiftSettings
        ),

        // MARK: Service runtime shared by every executable: config, logs, metrics endpoint, diagnostics.
        .target(
            name: "AccordServiceRuntime",
            dependencies: [
                "AccordRPC",
                "AccordCalendar",
                "AccordServiceKit",
                "AccordStorage",
                "AccordMessages",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Shared/AccordServiceRuntime",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordServiceRuntimeTests",
            dependencies: [
                "AccordServiceRuntime",
                "AccordRPC",
                "AccordMessages",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/AccordServiceRuntimeTests",
            swiftSettings: swiftSettings
        ),

        // MARK: Intake: agencies, participation requests, ICE sheet import.
        .target(
            name: "Intake",
            dependencies: [
                "AccordRPC",
                "AccordServiceKit",
                "AccordWire",
                "AccordMessages",
                "AccordStorage",
                "AccordPaging",
                "AccordCSV",
                "AccordSheets",
                "AccordCalendar",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Intake",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntakeTests",
            dependencies: [
                "AccordTestSupport",
                "AccordServiceKit",
                "Intake",
                "AccordRPC",
                "AccordWire",
                "AccordMessages",
                "AccordSheets",
                "AccordServiceRuntime",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/IntakeTests",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AccordIntakeServer",
            dependencies: [
                "Intake",
                "AccordRPC",
                "AccordServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/IntakeServer",
            swiftSettings: swiftSettings
        ),

        // MARK: Qualification: rules as data, request evaluation, model recommendation.
        .target(
            name: "Qualification",
            dependencies: [
                "AccordRPC",
                "AccordServiceKit",
                "AccordWire",
                "AccordMessages",
                "AccordStorage",
                "AccordPaging",
                "AccordCSV",
                "AccordCalendar",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Qualification",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QualificationTests",
            dependencies: [
                "AccordTestSupport",
                "AccordServiceKit",
                "Qualification",
                "AccordRPC",
                "AccordMessages",
                "AccordCalendar",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/QualificationTests",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AccordQualificationServer",
            dependencies: [
                "AccordServiceKit",
                "Qualification",
                "AccordMessages",
                "AccordRPC",
                "AccordServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/QualificationServer",
            swiftSettings: swiftSettings
        ),

        // MARK: Supervision: agreements, authorization, delegated actions, oversight, audit trail.
        .target(
            name: "Supervision",
            dependencies: [
                "AccordRPC",
                "AccordServiceKit",
                "AccordWire",
                "AccordMessages",
                "AccordStorage",
                "AccordPaging",
                "AccordCalendar",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Supervision",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SupervisionTests",
            dependencies: [
                "AccordTestSupport",
                "AccordServiceKit",
                "Supervision",
                "AccordRPC",
                "AccordMessages",
                "AccordCalendar",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SupervisionTests",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AccordSupervisionServer",
            dependencies: [
                "Supervision",
                "AccordRPC",
                "AccordServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/SupervisionServer",
            swiftSettings: swiftSettings
        ),

        // MARK: Gateway: authentication by token, routing, fan-out, backend health.
        .target(
            name: "Gateway",
            dependencies: [
                "AccordRPC",
                "AccordCalendar",
                "AccordServiceKit",
                "AccordWire",
                "AccordMessages",
                "AccordStorage",
                "AccordServiceRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Gateway",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "AccordTestSupport",
                "AccordServiceKit",
                "Gateway",
                "Intake",
                "Qualification",
                "Supervision",
                "AccordRPC",
                "AccordWire",
                "AccordMessages",
                "AccordServiceRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/GatewayTests",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AccordGatewayServer",
            dependencies: [
                "Gateway",
                "AccordCalendar",
                "AccordRPC",
                "AccordServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Services/GatewayServer",
            swiftSettings: swiftSettings
        ),

        // MARK: Executables.
        .executableTarget(
            name: "AccordEchoServer",
            dependencies: [
                "AccordServiceRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/EchoServer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AccordCLI",
            dependencies: [
                "AccordCalendar",
                "AccordClientKit",
                "AccordRPC",
                "AccordWire",
                "AccordMessages",
                "AccordSheets",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/AccordCLI",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AccordClientKit",
            dependencies: [
                "AccordRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/AccordClientKit",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AccordLoadKit",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Tools/AccordLoadKit",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordLoadTests",
            dependencies: ["AccordLoadKit", .product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Tests/AccordLoadTests",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AccordLoad",
            dependencies: [
                "AccordClientKit",
                "AccordLoadKit",
                "AccordRPC",
                "AccordMessages",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Tools/AccordLoad",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "AccordBackup",
            dependencies: [
                "AccordServiceKit",
                "AccordStorage",
                "Intake",
                "Qualification",
                "Supervision",
                "Gateway",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/AccordBackup",
            swiftSettings: swiftSettings
        ),

        // MARK: End-to-end tests over the real executables.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "AccordCalendar",
                "AccordServiceKit",
                "AccordWire",
                "AccordRPC",
                "AccordMessages",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/EndToEndTests",
            swiftSettings: swiftSettings
        ),
    ]
)

// MARK: Coverage-guided fuzzing (make fuzz): with ACCORD_FUZZ=1, in a build path of its own, the
// decoders' modules are instrumented for libFuzzer and AddressSanitizer, and one executable per
// target (Fuzz/) exports LLVMFuzzerTestOneInput.
if Context.environment["ACCORD_FUZZ"] != nil {
    let sanitizers = ["-sanitize=fuzzer,address"]
    let instrumented: Set<String> = ["AccordWire", "AccordMessages", "AccordCSV", "AccordSheets"]
    for target in package.targets where instrumented.contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitizers)]
    }
    for target in package.targets where ["CAccordProto", "CAccordZlib"].contains(target.name) {
        target.cSettings = (target.cSettings ?? []) + [.unsafeFlags(["-fsanitize=fuzzer-no-link,address"])]
    }
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("FuzzFrames", ["AccordWire", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzMessages", ["AccordMessages"]),
        ("FuzzICESheet", ["AccordCSV", "AccordSheets"]),
        ("FuzzInflate", ["AccordWire", .product(name: "NIOCore", package: "swift-nio")]),
    ]
    package.targets.append(.target(name: "FuzzDriver", path: "Fuzz/FuzzDriver", swiftSettings: swiftSettings))
    for (name, dependencies) in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: name,
                dependencies: dependencies + ["FuzzDriver"],
                path: "Fuzz/\(name)",
                swiftSettings: swiftSettings + [.unsafeFlags(sanitizers + ["-parse-as-library"])],
                linkerSettings: [.unsafeFlags(sanitizers)]
            )
        )
        package.products.append(.executable(name: name, targets: [name]))
    }
}
