public import AccordRPC
public import AccordServiceKit
public import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
public import ServiceLifecycle

/// Runs an Accord server process: logs, metrics, the RPC server with health and echo, the
/// admin endpoint; SIGTERM and SIGINT drain gracefully.
public enum ServiceRunner {
    /// Everything a server executable says about itself.
    public struct Identity: Sendable {
        public var name: String
        public var version: String

        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }

    /// Builds and runs the server until a signal stops it.
    ///
    /// - Parameters:
    ///   - registerServices: opens the service's storage and adds its methods (given the
    ///     process logger); returns the service's background work (outbox dispatchers), which
    ///     lives and stops with the server. Health and echo are added here. A failure stops the
    ///     start-up.
    ///   - extraServices: long-running work that lives and stops with the server.
    public static func run(
        _ identity: Identity,
        options: ServiceOptions.Resolved,
        interceptors: [any ServerInterceptor] = [],
        extraServices: [any Service] = [],
        registerServices: (inout RPCRouter, Logger) async throws -> [any Service] = { _, _ in [] }
    ) async throws {
        try await self.run(identity, options: options, interceptors: interceptors, extraServices: extraServices) {
            router,
            logger in
            Setup(work: try await registerServices(&router, logger))
        }
    }

    /// What a server's set-up returns: its background work and, for a server that authenticates
    /// its callers itself (the gateway), the interceptor that does it, in place of the trust of
    /// the internal credential.
    public struct Setup: Sendable {
        public var work: [any Service]
        public var authenticator: (any ServerInterceptor)?

        public init(work: [any Service], authenticator: (any ServerInterceptor)? = nil) {
            self.work = work
            self.authenticator = authenticator
        }
    }

    /// Builds and runs the server until a signal stops it (see the other form); `setUp` may
    /// also name the interceptor that authenticates callers.
    public static func run(
        _ identity: Identity,
        options: ServiceOptions.Resolved,
        interceptors: [any ServerInterceptor] = [],
        extraServices: [any Service] = [],
        setUp: (inout RPCRouter, Logger) async throws -> Setup
    ) async throws {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: options.logLevel) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: identity.name)
        logger[metadataKey: "service"] = "\(identity.name)"

        var router = RPCRouter()
        var serviceWork: [any Service] = []
        var authenticator: (any ServerInterceptor)?
        do {
            let setup = try await setUp(&router, logger)
            serviceWork = setup.work
            authenticator = setup.authenticator
        } catch {
            logger.critical("Cannot start", metadata: ["error": "\(error)"])
            throw error
        }
        Diagnostics.registerEcho(into: &router)
        Diagnostics.registerHealth(
            into: &router,
            serverName: "\(identity.name) \(identity.version)",
            clock: options.clock
        )

        var configuration = ServerConfiguration(host: options.host, port: options.port)
        configuration.limits.maxMessageBytes = options.maxMessageBytes
        configuration.compression.enabled = options.compressionThreshold != nil
        configuration.compression.thresholdBytes = options.compressionThreshold ?? Int.max
        configuration.timeouts.drain = .seconds(Int64(options.drainSeconds))
        configuration.tls = options.tls?.server
        if options.internalCredential == nil && authenticator == nil {
            logger.warning("No internal credential is set: every caller is trusted with the principal it asserts")
        }
        if options.tls == nil {
            logger.notice("TLS is off: the port is in clear, for loopback and development only")
        }
        let trust =
            authenticator
            ?? PrincipalInterceptor(
                credentials: options.internalCredential ?? InternalCredentials([]),
                certifiedCallers: options.tls?.server.requiresClientCertificates == true ? ServiceTLS.components : nil
            )
        let server = RPCServer(
            configuration: configuration,
            router: router,
            interceptors: [trust] + interceptors,
            logger: logger
        )

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server, serviceName: "rpc")]
        if let adminPort = options.adminPort {
            let admin = AdminServer(host: options.host, port: adminPort, registry: registry, logger: logger)
            services.append(.init(service: admin, serviceName: "admin"))
        }
        services += (extraServices + serviceWork).map { .init(service: $0) }
        if let file = options.internalCredentialFile, let credentials = options.internalCredential {
            services.append(.init(service: CredentialReloader(path: file, credentials: credentials, logger: logger)))
        }
        if let tls = options.tls {
            services.append(.init(service: TLSReloader(sources: [tls.server, tls.client], logger: logger)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.info("Starting", metadata: ["version": "\(identity.version)", "pid": "\(getpid())"])
        try await group.run()
    }
}

#if canImport(Glibc)
import Glibc
#endif
