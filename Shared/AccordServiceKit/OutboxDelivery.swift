public import AccordMessages
public import AccordRPC
public import AccordWire
public import Logging
public import NIOCore

/// How a service's outbox reaches another service: one client that does not retry on its own
/// (the outbox is the retry) and the options of every call: the sender's principal with the
/// internal credential, and a deadline.
public struct OutboxDelivery: Sendable {
    public let client: RPCClient
    public let options: CallOptions

    public init(
        endpoints: [Endpoint],
        speakingAs principal: Principal,
        internalCredential: String?,
        callTimeout: TimeAmount,
        logger: Logger
    ) {
        var configuration = ClientConfiguration()
        configuration.retry.maxAttempts = 1
        self.client = RPCClient(endpoints: endpoints, configuration: configuration, logger: logger)
        self.options = CallOptions(
            timeout: callTimeout,
            metadata: TrustMetadata.asserting(principal, internalCredential: internalCredential)
        )
    }

    /// Delivers through a client the service already has (which it closes itself).
    public init(client: RPCClient, options: CallOptions) {
        self.client = client
        self.options = options
    }

    public func unary<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request
    ) async throws
        -> Response
    {
        try await self.client.unary(method, request, options: self.options)
    }
}
