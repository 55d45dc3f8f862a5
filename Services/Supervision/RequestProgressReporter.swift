import AccordMessages
import AccordRPC
public import AccordServiceKit
public import ServiceLifecycle

/// Tells intake that an agreement was offered from a request, or signed
/// (`Intake/RecordAgreementProgress`), from supervision's outbox, until intake has it. Intake
/// takes the same progress twice as once, so a crash between the answer and the mark is harmless.
/// Without an intake endpoint there is no one to tell, and it does nothing.
public struct RequestProgressReporter: Service {
    let dispatcher: OutboxDispatcher<PendingProgress>?

    public init(service: SupervisionService, settings: OutboxSettings = .defaults) {
        guard let intake = service.backends.intake else {
            self.dispatcher = nil
            return
        }
        let store = service.store
        let clock = service.clock
        let logger = service.logger
        self.dispatcher = OutboxDispatcher(
            name: "request progress to intake",
            delivery: OutboxDelivery(client: intake) { [backends = service.backends] in backends.callOptions },
            ownsClient: false,
            settings: settings,
            logger: logger,
            pending: {
                try await store.claimProgress(limit: $0, now: clock.now(), lease: settings.claimLeaseMilliseconds)
            },
            send: { item, delivery in
                do {
                    _ = try await delivery.unary(IntakeMethods.recordAgreementProgress, item.request)
                } catch let error as RPCError where error.code == .failedPrecondition && error.requestNotYetDecided {
                    // Intake has the request but not its decision yet (a data directory restored
                    // from a backup taken before it): the decision is on its way from
                    // qualification, so this row waits for it.
                    throw error
                } catch let error as RPCError where error.code == .failedPrecondition || error.code == .notFound {
                    // The request moved on (withdrawn, say) or is unknown: nothing more to tell.
                    logger.notice(
                        "Intake did not take agreement progress",
                        metadata: ["request": "\(item.request.requestId ?? "")", "error": "\(error)"]
                    )
                }
            },
            delivered: { try await store.progressDelivered($0, at: clock.now()) },
            release: { try await store.releaseProgress($0) }
        )
    }

    public func run() async throws {
        try await self.dispatcher?.run()
    }

    /// Sends what the outbox holds; returns how many rows it handled.
    func deliverPending() async throws -> Int {
        try await self.dispatcher?.deliverPending() ?? 0
    }
}

extension RPCError {
    /// Intake's refusal of progress on a request that is still waiting for its decision.
    var requestNotYetDecided: Bool {
        guard let details = self.errorDetails, details.reason == "ILLEGAL_TRANSITION" else { return false }
        let status = details.metadata.first { $0.key == "status" }?.value
        return status == RequestStatus.received.protoName || status == RequestStatus.underReview.protoName
    }
}
