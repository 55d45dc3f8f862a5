public import AccordRPC
public import Logging
public import NIOCore
public import ServiceLifecycle

/// How an outbox sender paces itself: the deadline of each call, how long it waits when nothing
/// is pending, the longest wait after failures, and how many rows it takes at a time.
public struct OutboxSettings: Sendable {
    public var callTimeout: TimeAmount
    public var pollInterval: Duration
    public var maxBackoff: Duration
    public var batchSize: Int
    /// How long a sender holds the rows it took: other replicas leave them alone until then, and
    /// take them over after it when the sender died.
    public var claimLease: Duration

    public init(
        callTimeout: TimeAmount = .seconds(2),
        pollInterval: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(10),
        batchSize: Int = 32,
        claimLease: Duration = .seconds(120)
    ) {
        self.callTimeout = callTimeout
        self.pollInterval = pollInterval
        self.maxBackoff = maxBackoff
        self.batchSize = batchSize
        self.claimLease = claimLease
    }

    /// The claim lease in Unix milliseconds.
    public var claimLeaseMilliseconds: Int64 {
        self.claimLease.wholeMilliseconds
    }

    /// Two-second calls, a poll every 200 ms, backoff up to 10 s, 32 rows at a time, held 120 s.
    public static var defaults: OutboxSettings { OutboxSettings() }
}

/// Delivers a service's outbox to another service, for every outbox alike.
///
/// The rows are written in the same transaction as the change that causes them, so a crash
/// loses none. The dispatcher claims pending ones (oldest first; replicas claim different rows,
/// and rows a dead replica held are taken over when its lease runs out), sends each with a deadline,
/// and marks it delivered once the other service has it. A call that fails otherwise leaves the
/// row pending and the loop tries again with backoff; a row sent twice (a crash between the
/// answer and the mark) must be harmless, so every receiving method is idempotent. A row the
/// receiver refuses as INVALID_ARGUMENT will never be taken: it is logged and marked delivered.
public struct OutboxDispatcher<Item: Sendable & CustomStringConvertible>: Service {
    public let name: String
    public let settings: OutboxSettings
    let delivery: OutboxDelivery
    /// Whether the dispatcher made its client, and so closes it when it stops.
    let ownsClient: Bool
    let logger: Logger
    let pending: @Sendable (Int) async throws -> [Item]
    let send: @Sendable (Item, OutboxDelivery) async throws -> Void
    let delivered: @Sendable (Item) async throws -> Void
    let release: @Sendable ([Item]) async throws -> Void

    /// - Parameters:
    ///   - pending: up to the given number of pending rows, oldest first.
    ///   - send: delivers one row (it may decide the row needs no call).
    ///   - delivered: marks one row delivered.
    ///   - release: gives back rows it claimed but could not deliver, for another try at once.
    public init(
        name: String,
        endpoints: [Endpoint],
        speakingAs principal: Principal,
        internalCredential: InternalCredentials?,
        settings: OutboxSettings,
        tls: ClientTLS? = nil,
        logger: Logger,
        pending: @escaping @Sendable (Int) async throws -> [Item],
        send: @escaping @Sendable (Item, OutboxDelivery) async throws -> Void,
        delivered: @escaping @Sendable (Item) async throws -> Void,
        release: @escaping @Sendable ([Item]) async throws -> Void
    ) {
        let delivery = OutboxDelivery(
            endpoints: endpoints,
            speakingAs: principal,
            internalCredential: internalCredential,
            callTimeout: settings.callTimeout,
            tls: tls,
            logger: logger
        )
        self.init(
            name: name,
            delivery: delivery,
            ownsClient: true,
            settings: settings,
            logger: logger,
            pending: pending,
            send: send,
            delivered: delivered,
            release: release
        )
    }

    /// A dispatcher over a delivery the caller made; it closes the client only if `ownsClient`.
    public init(
        name: String,
        delivery: OutboxDelivery,
        ownsClient: Bool,
        settings: OutboxSettings,
        logger: Logger,
        pending: @escaping @Sendable (Int) async throws -> [Item],
        send: @escaping @Sendable (Item, OutboxDelivery) async throws -> Void,
        delivered: @escaping @Sendable (Item) async throws -> Void,
        release: @escaping @Sendable ([Item]) async throws -> Void
    ) {
        self.name = name
        self.settings = settings
        self.delivery = delivery
        self.ownsClient = ownsClient
        self.logger = logger
        self.pending = pending
        self.send = send
        self.delivered = delivered
        self.release = release
    }

    public func run() async throws {
        let loop = OutboxLoop(
            name: self.name,
            pollInterval: self.settings.pollInterval,
            maxBackoff: self.settings.maxBackoff,
            logger: self.logger,
            deliver: { try await self.deliverPending() },
            finish: { if self.ownsClient { await self.delivery.client.close() } }
        )
        try await loop.run()
    }

    /// Sends what the outbox holds, oldest first; returns how many rows it handled.
    public func deliverPending() async throws -> Int {
        let batch = try await self.pending(self.settings.batchSize)
        for (index, item) in batch.enumerated() {
            do {
                try await self.send(item, self.delivery)
            } catch let error as RPCError where error.code == .invalidArgument {
                self.logger.error(
                    "Outbox row refused by its receiver; not sent again",
                    metadata: ["outbox": "\(self.name)", "row": "\(item)", "error": "\(error)"]
                )
            } catch {
                // Not delivered: what is left of the batch is free again for the next try.
                try? await self.release(Array(batch[index...]))
                throw error
            }
            try await self.delivered(item)
        }
        return batch.count
    }
}
