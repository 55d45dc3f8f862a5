import AccordRPC
import AccordServiceKit
import Foundation
public import NIOCore
public import ServiceLifecycle

/// Checks every backend's health method every `interval`, so that a failing endpoint is taken
/// out of rotation and a recovered one brought back, without a restart of the gateway.
public struct HealthChecker: Service {
    let gateway: GatewayService
    let interval: Duration
    let timeout: TimeAmount

    public init(gateway: GatewayService, interval: Duration = .seconds(2), timeout: TimeAmount = .seconds(1)) {
        self.gateway = gateway
        self.interval = interval
        self.timeout = timeout
    }

    public func run() async throws {
        let loop = OutboxLoop(
            name: "backend health",
            pollInterval: self.interval,
            maxBackoff: self.interval,
            logger: self.gateway.logger,
            deliver: {
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                for pool in self.gateway.backends.all { await pool.checkHealth(timeout: self.timeout, now: now) }
                return 0
            },
            finish: { await self.gateway.close() }
        )
        try await loop.run()
    }
}
