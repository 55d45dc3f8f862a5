public import AccordMessages
public import AccordRPC
public import Logging
public import NIOCore
public import ServiceLifecycle

/// Runs an outbox's delivery until the service stops: `deliver` sends what is pending and says
/// how many rows it handled; when nothing is pending the loop waits `pollInterval`, and after a
/// failure it waits with exponential backoff up to `maxBackoff`. Graceful shutdown ends it.
public struct OutboxLoop: Service {
    public let name: String
    public let pollInterval: Duration
    public let maxBackoff: Duration
    let logger: Logger
    let deliver: @Sendable () async throws -> Int
    let finish: @Sendable () async -> Void

    public init(
        name: String,
        pollInterval: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(10),
        logger: Logger,
        deliver: @escaping @Sendable () async throws -> Int,
        finish: @escaping @Sendable () async -> Void = {}
    ) {
        self.name = name
        self.pollInterval = pollInterval
        self.maxBackoff = maxBackoff
        self.logger = logger
        self.deliver = deliver
        self.finish = finish
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var backoff = self.pollInterval
            while !Task.isCancelled {
                do {
                    let handled = try await self.deliver()
                    backoff = self.pollInterval
                    if handled == 0 { try? await Task.sleep(for: self.pollInterval) }
                } catch {
                    self.logger.warning(
                        "Outbox delivery failed; will retry",
                        metadata: ["outbox": "\(self.name)", "error": "\(error)", "retry_in": "\(backoff)"]
                    )
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, self.maxBackoff)
                }
            }
        }
        await self.finish()
    }
}
