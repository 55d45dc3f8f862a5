public import AccordMessages
import AccordWire
public import Logging
public import NIOCore
public import NIOPosix
import Synchronization

/// A client of one service: one multiplexed connection per endpoint, round-robin over the
/// endpoints that are connected, reconnection with exponential backoff and jitter, and retries
/// of idempotent calls that failed UNAVAILABLE, within a retry budget.
public final class RPCClient: Sendable {
    /// The state of one endpoint, as ``endpointStates`` reports it.
    public enum EndpointState: Sendable, Hashable {
        case idle
        case connecting
        case ready
        /// The last connect failed; the next attempt waits until the backoff passes.
        case backingOff(lastError: String)
    }

    private enum Slot {
        case idle(failures: Int)
        case connecting(Task<Void, Never>, failures: Int)
        case ready(ClientConnection)
        case backingOff(until: NIODeadline, failures: Int, error: RPCError)
    }

    private struct State {
        var slots: [Slot]
        var cursor = 0
        var closed = false
    }

    public let endpoints: [Endpoint]
    private let configuration: ClientConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State>
    private let budget: RetryBudget

    public init(
        endpoints: [Endpoint],
        configuration: ClientConfiguration = .defaults,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "accord.rpc.client")
    ) {
        precondition(!endpoints.isEmpty, "a client needs at least one endpoint")
        self.endpoints = endpoints
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.state = Mutex(State(slots: endpoints.map { _ in .idle(failures: 0) }))
        self.budget = RetryBudget(configuration.retry)
    }

    public var endpointStates: [(Endpoint, EndpointState)] {
        self.state.withLock { state in
            zip(self.endpoints, state.slots).map { endpoint, slot in
                switch slot {
                case .idle: (endpoint, .idle)
                case .connecting: (endpoint, .connecting)
                case .ready(let connection): (endpoint, connection.isUsable ? .ready : .idle)
                case .backingOff(_, _, let error): (endpoint, .backingOff(lastError: error.message))
                }
            }
        }
    }

    // MARK: Calls

    /// Calls a unary method.
    public func unary<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        options: CallOptions = CallOptions()
    ) async throws -> Response {
        let payload = try encode(request)
        let bytes = try await self.unaryRaw(
            path: method.path,
            request: payload,
            options: options,
            retryable: method.isIdempotent
        )
        return try decode(
            Response.self,
            from: bytes,
            limits: DecodeLimits(maxMessageBytes: self.configuration.maxMessageBytes, maxAllocationBytes: 64 << 20)
        )
    }

    /// Calls a server-streaming method. Responses arrive as the server sends them; the stream
    /// throws the call's ``RPCError`` when it fails.
    public func serverStreaming<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        options: CallOptions = CallOptions()
    ) async throws -> AsyncThrowingMapSequence<AsyncThrowingStream<ByteBuffer, any Error>, Response> {
        let payload = try encode(request)
        let deadline = options.timeout.map { NIODeadline.now() + $0 }
        let connection = try await self.connection(deadline: deadline)
        let limits = DecodeLimits(maxMessageBytes: self.configuration.maxMessageBytes, maxAllocationBytes: 64 << 20)
        return connection.serverStream(path: method.path, request: payload, options: options).map { bytes in
            try decode(Response.self, from: bytes, limits: limits)
        }
    }

    /// A unary call with encoded messages. `retryable` calls (or calls carrying an
    /// `idempotency-key`) are retried after UNAVAILABLE while attempts and budget remain.
    public func unaryRaw(
        path: String,
        request: ByteBuffer,
        options: CallOptions,
        retryable: Bool
    ) async throws -> ByteBuffer {
        let mayRetry = retryable || options.metadata[MetadataKey.idempotencyKey] != nil
        let deadline = options.endsBy
        var attempt = 0
        while true {
            attempt += 1
            var attemptOptions = options
            if let deadline {
                let left = deadline - .now()
                guard left > .zero else {
                    throw RPCError(.deadlineExceeded, "deadline exceeded before the call was sent")
                }
                attemptOptions.timeout = left
            }
            do {
                let connection = try await self.connection(deadline: deadline)
                let response = try await connection.unary(path: path, request: request, options: attemptOptions)
                self.budget.succeeded()
                return response
            } catch let error as RPCError where error.code == .unavailable {
                guard mayRetry, attempt < self.configuration.retry.maxAttempts, self.budget.spend() else {
                    throw error
                }
                self.logger.debug(
                    "Retrying call",
                    metadata: ["call.method": "\(path)", "attempt": "\(attempt + 1)", "error": "\(error)"]
                )
                try await Task.sleep(
                    nanoseconds: UInt64(self.configuration.backoff.delay(attempt: attempt - 1).nanoseconds) / 4
                )
            }
        }
    }

    /// Closes every connection; calls in progress fail CANCELLED.
    public func close() async {
        let connections = self.state.withLock { state -> [ClientConnection] in
            state.closed = true
            return state.slots.compactMap { if case .ready(let connection) = $0 { connection } else { nil } }
        }
        for connection in connections { await connection.close() }
    }

    // MARK: Connections

    private enum Pick {
        case use(ClientConnection)
        case wait(Task<Void, Never>)
        case sleep(until: NIODeadline)
        case fail(RPCError)
    }

    /// A usable connection now, without waiting: nil when none is ready (a connect is then
    /// started, as a call would, unless one is under way or backing off).
    public func readyConnection() -> ClientConnection? {
        switch self.pick() {
        case .use(let connection): connection
        case .wait, .sleep, .fail: nil
        }
    }

    /// A usable connection, round-robin over ready endpoints; connects when none is ready.
    func connection(deadline: NIODeadline?) async throws -> ClientConnection {
        while true {
            switch self.pick() {
            case .use(let connection):
                return connection
            case .wait(let task):
                await task.value
            case .sleep(let until):
                if let deadline, until > deadline {
                    throw RPCError(.unavailable, "no endpoint is reachable before the deadline")
                }
                try await Task.sleep(nanoseconds: UInt64(max(0, (until - .now()).nanoseconds)))
            case .fail(let error):
                throw error
            }
        }
    }

    private func pick() -> Pick {
        self.state.withLock { state in
            guard !state.closed else { return .fail(RPCError(.cancelled, "the client is closed")) }
            let count = state.slots.count
            for offset in 0..<count {
                let index = (state.cursor + offset) % count
                if case .ready(let connection) = state.slots[index] {
                    if connection.isUsable {
                        state.cursor = index + 1
                        return .use(connection)
                    }
                    state.slots[index] = .idle(failures: 0)
                }
            }
            let now = NIODeadline.now()
            var earliest: NIODeadline?
            var lastError: RPCError?
            for offset in 0..<count {
                let index = (state.cursor + offset) % count
                switch state.slots[index] {
                case .connecting(let task, _):
                    return .wait(task)
                case .idle(let failures):
                    return .wait(self.startConnecting(index, failures: failures, &state))
                case .backingOff(let until, let failures, let error):
                    if until <= now { return .wait(self.startConnecting(index, failures: failures, &state)) }
                    earliest = min(earliest ?? until, until)
                    lastError = error
                case .ready:
                    continue
                }
            }
            // Every endpoint is backing off: fail fast on the first pass, as gRPC does.
            if let lastError, count == 1 || earliest == nil { return .fail(lastError) }
            return earliest.map { .sleep(until: $0) } ?? .fail(RPCError(.unavailable, "no endpoint is reachable"))
        }
    }

    private func startConnecting(_ index: Int, failures: Int, _ state: inout State) -> Task<Void, Never> {
        let endpoint = self.endpoints[index]
        let task = Task {
            do {
                let connection = try await ClientConnection.connect(
                    to: endpoint,
                    configuration: self.configuration,
                    group: self.group
                ) { [weak self] in
                    self?.markUnusable(index)
                }
                let keep = self.state.withLock { state -> Bool in
                    guard !state.closed else { return false }
                    state.slots[index] = .ready(connection)
                    return true
                }
                if !keep { await connection.close() }
                self.logger.debug("Connected", metadata: ["endpoint": "\(endpoint)"])
            } catch {
                let rpcError = error as? RPCError ?? RPCError(.unavailable, "\(endpoint): \(error)")
                let delay = self.configuration.backoff.delay(attempt: failures)
                self.state.withLock { state in
                    state.slots[index] = .backingOff(until: .now() + delay, failures: failures + 1, error: rpcError)
                }
                self.logger.debug(
                    "Connect failed",
                    metadata: [
                        "endpoint": "\(endpoint)", "error": "\(rpcError)",
                        "retry_in_ms": "\(delay.nanoseconds / 1_000_000)",
                    ]
                )
            }
        }
        state.slots[index] = .connecting(task, failures: failures)
        return task
    }

    private func markUnusable(_ index: Int) {
        self.state.withLock { state in
            if case .ready = state.slots[index] { state.slots[index] = .idle(failures: 0) }
        }
    }
}
