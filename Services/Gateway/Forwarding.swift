import AccordMessages
public import AccordRPC
import AccordServiceKit
import AccordServiceRuntime
import AccordWire
public import NIOCore
import NIOPosix

/// Forwards one method's unary calls to its service from the event loop each call arrived on:
/// the token checked against the tokens in memory, the call written on that loop's connection
/// to an endpoint, the answer passed back as it comes, all without a Swift task. A token not
/// seen yet, or an endpoint whose connection on this loop is not ready, takes the task path
/// (``BackendPool/unary(path:request:options:idempotent:)``), which waits for them.
struct RouteForwarder: CallForwarder {
    let gateway: GatewayService
    /// The service's pool, or nil for the gateway's echo: to the backend its metadata names, else answered here.
    let pool: BackendPool?
    let idempotent: Bool

    func forward(_ call: ForwardedCall) {
        let token: Substring
        do {
            token = try BearerAuthenticator.bearerToken(call.metadata)
        } catch {
            return call.reply.finish(.failure(error))
        }
        switch self.gateway.tokens.check(token) {
        case .valid(let principal, let header):
            self.forward(call, as: principal, header: header)
        case .refused(let error):
            call.reply.finish(.failure(error))
        case .unseen:
            answerWithTask(call) {
                try await self.answer(call, as: try await self.gateway.tokens.authenticate(String(token)))
            }
        }
    }

    private func forward(_ call: ForwardedCall, as principal: Principal, header: String) {
        do {
            guard let pool = try self.pool ?? self.gateway.echoBackend(call.metadata) else {
                return answerWithTask(call) { try await self.answer(call, as: principal) }
            }
            let options = try self.gateway.forwardOptions(
                principal: principal,
                header: header,
                callerMetadata: call.metadata,
                trace: nil,
                deadline: call.deadline
            )
            RelayedCall(pool: pool, call: call, options: options, idempotent: self.idempotent).start()
        } catch {
            call.reply.finish(.failure(error))
        }
    }

    /// The task path: forwarded with waiting allowed, or the gateway's own echo.
    private func answer(_ call: ForwardedCall, as principal: Principal) async throws -> ByteBuffer {
        let options = try self.gateway.forwardOptions(
            principal: principal,
            header: principal.header,
            callerMetadata: call.metadata,
            trace: nil,
            deadline: call.deadline
        )
        if let pool = try self.pool ?? self.gateway.echoBackend(call.metadata) {
            return try await pool.unary(
                path: call.method,
                request: call.request,
                options: options,
                idempotent: self.idempotent
            )
        }
        let response = try await Diagnostics.echo(try GatewayService.decodeEcho(call.request))
        return ByteBuffer(bytes: try response.serializedBytes())
    }
}

/// Answers `call` from a task (the path that may wait), cancelled if its caller goes away first.
private func answerWithTask(_ call: ForwardedCall, _ body: @escaping @Sendable () async throws -> ByteBuffer) {
    let task = Task {
        do {
            call.reply.finish(.success(try await body()))
        } catch {
            call.reply.finish(.failure(error))
        }
    }
    call.reply.observe(TaskObserver(task: task))
}

/// Cancels a forwarded call's task when its caller goes away.
private final class TaskObserver: ForwardedCallObserver {
    let task: Task<Void, Never>
    init(task: Task<Void, Never>) { self.task = task }
    func callerWentAway() { self.task.cancel() }
}

/// One forwarded unary call on its way through a pool, on the event loop it arrived on.
final class RelayedCall: RelaySink, ForwardedCallObserver {
    private let pool: BackendPool
    private let call: ForwardedCall
    private let options: CallOptions
    private let idempotent: Bool
    /// The endpoint holding one of its calls in flight, while the call is out there.
    private var member: BackendPool.Member?
    private var backend: (connection: ClientConnection, id: UInt32)?
    private var attempts = 0
    private var answered = false
    private var over = false

    init(pool: BackendPool, call: ForwardedCall, options: CallOptions, idempotent: Bool) {
        self.pool = pool
        self.call = call
        self.options = options
        self.idempotent = idempotent || options.metadata[MetadataKey.idempotencyKey] != nil
    }

    func start() {
        self.call.reply.observe(self)
        self.send(excluding: nil)
    }

    private func send(excluding excluded: BackendPool.Member?) {
        let member: BackendPool.Member
        do {
            member = try self.pool.acquire(excluding: excluded)
        } catch {
            return self.end(.failure(error))
        }
        self.attempts += 1
        let loop = self.call.eventLoop
        guard let connection = member.client(on: loop)?.readyConnection(), connection.eventLoop === loop,
            let id = connection.relay(
                path: self.call.method,
                request: self.call.request,
                options: self.options,
                sink: self
            )
        else {
            // Not connected on this loop yet: the task path connects (and retries) as it can.
            self.pool.release(member)
            return self.sendWithTask()
        }
        self.member = member
        self.backend = (connection, id)
    }

    /// The task then watches for the caller going away, in this call's place.
    private func sendWithTask() {
        let (pool, call, options, idempotent) = (self.pool, self.call, self.options, self.idempotent)
        answerWithTask(call) {
            try await pool.unary(path: call.method, request: call.request, options: options, idempotent: idempotent)
        }
    }

    private func settle() {
        if let member = self.member { self.pool.release(member) }
        self.member = nil
        self.backend = nil
    }

    private func end(_ result: Result<ByteBuffer, any Error>) {
        self.over = true
        self.call.reply.finish(result)
    }

    func relayed(message: ByteBuffer) {
        self.answered = true
        self.call.reply.send(message)
    }

    func relayed(trailers: ByteBuffer, code: StatusCode) {
        if let member = self.member { self.pool.answered(member) }
        self.settle()
        if code == .ok { self.pool.budget.succeeded() }
        self.over = true
        self.call.reply.finish(relaying: trailers, code: code)
    }

    func relayFailed(_ error: RPCError) {
        let member = self.member
        self.settle()
        guard error.code == .unavailable, let member else { return self.end(.failure(error)) }
        // The endpoint's own failure (no connection, a reset, going away).
        self.pool.transportFailed(member, error.message)
        guard self.idempotent, !self.answered, self.attempts == 1, self.pool.members.count > 1,
            self.pool.budget.spend()
        else { return self.end(.failure(error)) }
        self.send(excluding: member)
    }

    func callerWentAway() {
        guard !self.over else { return }
        self.over = true
        if let (connection, id) = self.backend { connection.cancelRelay(id) }
        self.settle()
    }
}

extension BackendPool {
    /// Forwards a server-streaming call's responses as the caller takes them, on a connection of
    /// its own: a caller that stops reading stops that connection's reads (TCP then holds the
    /// service's stream back), and the gateway holds at most ``PausingStream/highWatermark``
    /// responses for it, while the calls of other callers go on over the shared connections.
    public func serverStreaming(
        path: String,
        request: ByteBuffer,
        options: CallOptions,
        send: @Sendable (ByteBuffer) async throws -> Void
    ) async throws {
        let member = try self.acquire()
        defer { self.release(member) }
        let connection: ClientConnection
        var configuration = member.configuration
        // What the kernel holds of a stalled stream, beside the responses the gateway holds.
        configuration.receiveBufferBytes = 128 << 10
        do {
            connection = try await ClientConnection.connect(
                to: member.endpoint,
                configuration: configuration,
                group: MultiThreadedEventLoopGroup.currentEventLoop ?? member.clients[0].loop
            )
        } catch let error as RPCError where error.code == .unavailable {
            self.transportFailed(member, error.message)
            throw error
        }
        do {
            for try await message in connection.pausingStream(path: path, request: request, options: options) {
                try await send(message)
            }
            await connection.close()
            self.answered(member)
        } catch {
            await connection.close()
            if let error = error as? RPCError, error.code == .unavailable, !error.answeredByPeer {
                self.transportFailed(member, error.message)
            } else if (error as? RPCError)?.answeredByPeer == true {
                self.answered(member)
            }
            throw error
        }
    }
}
