public import AccordMessages
public import AccordRPC
public import AccordServiceKit
import AccordStorage
import AccordWire
import NIOCore

/// The methods every Accord server hosts: `accord.v1.Health/Check` and the `accord.v1.Echo` diagnostics.
public enum Diagnostics {
    /// Longest delay and stream an echo request may ask for.
    public static let maxDelayMilliseconds: UInt32 = 60_000
    public static let maxStreamCount: UInt32 = 100_000

    /// Registers the echo methods, except those the server registered itself (the gateway, which
    /// can forward them).
    public static func registerEcho(into router: inout RPCRouter) {
        if !router.isRegistered(EchoMethods.unary.path) {
            router.register(EchoMethods.unary) { request, _ in try await Self.echo(request) }
        }
        if !router.isRegistered(EchoMethods.stream.path) {
            router.register(EchoMethods.stream) { request, _, stream in
                try await Self.echoStream(request) { try await stream.send($0) }
            }
        }
    }

    /// The answer to `Echo/Unary`: the payload back, after the delay or with the failure asked for.
    public static func echo(_ request: EchoRequest) async throws -> EchoResponse {
        try await Self.applyDelayAndFailure(request)
        return EchoResponse(payload: request.payload)
    }

    /// The answers to `Echo/Stream`: `count` copies of the payload, then the delay or failure.
    public static func echoStream(
        _ request: EchoRequest,
        send: (EchoResponse) async throws -> Void
    ) async throws {
        let count = request.count ?? 1
        guard count <= Self.maxStreamCount else {
            throw RPCError.invalidArgument(field: "count", "must be at most \(Self.maxStreamCount)")
        }
        for sequence in 0..<count {
            try await send(EchoResponse(payload: request.payload, sequence: sequence))
        }
        try await Self.applyDelayAndFailure(request)
    }

    /// Registers Health/Check, answering for the server and for each service it hosts (and, on a
    /// simulated clock, the time it reads).
    public static func registerHealth(
        into router: inout RPCRouter,
        serverName: String,
        clock: ServiceClock = .system,
        isServing: @escaping @Sendable () -> Bool = { true }
    ) {
        let started = NIODeadline.now()
        let services = router.serviceNames + [HealthMethods.serviceName]
        router.register(HealthMethods.check) { request, _ in
            var response = HealthCheckResponse(
                status: isServing() ? .serving : .notServing,
                server: serverName,
                services: services.sorted(),
                uptimeMs: (NIODeadline.now() - started).nanoseconds / 1_000_000
            )
            if clock.simulation != nil { response.simulatedNowMs = clock.now() }
            response.degraded = StorageHealth.shared.degraded
            if let service = request.service, !service.isEmpty, !services.contains(service) {
                response.status = .unknownService
            }
            return response
        }
    }

    private static func applyDelayAndFailure(_ request: EchoRequest) async throws {
        if let delay = request.delayMs, delay > 0 {
            guard delay <= Self.maxDelayMilliseconds else {
                throw RPCError.invalidArgument(field: "delay_ms", "must be at most \(Self.maxDelayMilliseconds)")
            }
            try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
        }
        if let code = request.failCode, code != 0 {
            guard let status = StatusCode(rawValue: UInt8(clamping: code)), code <= 16 else {
                throw RPCError.invalidArgument(field: "fail_code", "must be a status code from 0 to 16")
            }
            throw RPCError(status, request.failMessage ?? "failure requested by the caller")
        }
    }
}
