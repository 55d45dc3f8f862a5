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
    private let makeOptions: @Sendable () -> CallOptions

    /// The options of the next call: made at each call, with the credential presented then.
    public var options: CallOptions { self.makeOptions() }

    public init(
        endpoints: [Endpoint],
        speakingAs principal: Principal,
        internalCredential: InternalCredentials?,
        callTimeout: TimeAmount,
        tls: ClientTLS? = nil,
        logger: Logger
    ) {
        var configuration = ClientConfiguration()
        configuration.retry.maxAttempts = 1
        configuration.tls = tls
        self.client = RPCClient(endpoints: endpoints, configuration: configuration, logger: logger)
        self.makeOptions = {
            CallOptions(
                timeout: callTimeout,
                metadata: TrustMetadata.asserting(principal, internalCredential: internalCredential)
            )
        }
    }

    /// Delivers through a client the service already has (which it closes itself), with the
    /// options `options` makes at each call.
    public init(client: RPCClient, options: @escaping @Sendable () -> CallOptions) {
        self.client = client
        self.makeOptions = options
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
