import AccordMessages
import AccordWire
import Logging
public import NIOCore

/// Asks a server connection to shut down gracefully: GOAWAY, finish in-flight calls, close.
struct DrainConnectionEvent: Sendable {}

/// One server connection on its event loop: reads frames, runs calls, writes responses.
///
/// Handlers run as tasks off the event loop; their results come back through
/// ``NIOLoopBound`` and are written in batches (one flush per event-loop tick).
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingPreface
        case open
        /// GOAWAY sent or received: no new calls (refused saying why); close when the last call ends.
        case draining(reason: String)
        case closed
    }

    /// A class, so that the table of calls holds a reference: looked up and updated without copying.
    private final class Call {
        let method: String
        let route: RPCRouter.Route?
        let metrics: RPCServerMetrics.MethodMetrics
        let startedAt: NIODeadline
        let deadline: NIODeadline?
        let metadata: Metadata
        var task: Task<Void, Never>?
        /// A forwarded call's forwarder, to hear that the caller went away.
        var observer: (any ForwardedCallObserver)?
        var dispatched = false

        init(
            method: String,
            route: RPCRouter.Route?,
            metrics: RPCServerMetrics.MethodMetrics,
            startedAt: NIODeadline,
            deadline: NIODeadline?,
            metadata: Metadata
        ) {
            self.method = method
            self.route = route
            self.metrics = metrics
            self.startedAt = startedAt
            self.deadline = deadline
            self.metadata = metadata
        }

        /// Stops whatever runs the call: its task, or the call a forwarder made.
        func stop() {
            self.task?.cancel()
            self.observer?.callerWentAway()
        }
    }

    let shared: ServerShared
    private var state = State.awaitingPreface
    private var calls: [UInt32: Call] = [:]
    private var lastCallID: UInt32 = 0
    private var peerAcceptsZlib = false
    private lazy var compressor = ZlibCompressor()
    private lazy var decompressor = ZlibDecompressor()
    private var outbound = ByteBuffer()
    /// The buffer written last, emptied for reuse.
    private var spare: ByteBuffer?
    private var flush: FlushPolicy
    private var writabilityWaiters: [EventLoopPromise<Void>] = []
    private var prefaceTimer: Scheduled<Void>?
    /// Set for the earliest deadline of the calls in progress.
    private var deadlines = DeadlineTimer()
    private var idleTimer: Scheduled<Void>?
    /// When the connection last became idle (no call in progress); nil while calls run.
    private var idleSince: NIODeadline?
    private var context: ChannelHandlerContext!
    /// The connection's loop, kept after the context is let go.
    private var eventLoop: (any EventLoop)!
    /// Where handler tasks run: this connection's event loop, unless configured otherwise.
    private var executor: EventLoopTaskExecutor?
    private var logger: Logger
    private var peer = "unknown"
    /// The verified client certificate's common name, over mutual TLS.
    private var peerCertificateName: String?

    /// Frames are cut here rather than in a separate decoder handler, saving a pipeline hop and
    /// a type-erased wrap and unwrap per frame.
    private let decoder: NIOSingleStepByteToMessageProcessor<WireDecoder>

    init(shared: ServerShared) {
        self.shared = shared
        self.flush = FlushPolicy(everyCalls: shared.configuration.flushEveryCalls)
        self.decoder = NIOSingleStepByteToMessageProcessor(
            WireDecoder(peerRole: .client, maxFrameLength: shared.configuration.limits.maxMessageBytes)
        )
        self.logger = shared.logger
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.eventLoop = context.eventLoop
        if self.shared.configuration.runsHandlersOnEventLoop {
            self.executor = EventLoopTaskExecutor(context.eventLoop)
        }
        if context.channel.isActive { self.start(context: context) }
    }

    /// The context holds this handler: letting go of it here frees both (and the connection's
    /// buffers) once the channel is gone; every use after this point finds no context.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard self.prefaceTimer == nil else { return }
        self.peer = context.channel.remoteAddress?.description ?? "unknown"
        self.logger[metadataKey: "peer"] = "\(self.peer)"
        self.shared.metrics.connectionOpened()
        var preface = ByteBuffer()
        preface.writePreface(
            Preface(
                role: .server,
                capabilities: self.shared.configuration.compression.enabled ? .zlib : [],
                maxMessageBytes: UInt32(self.shared.configuration.limits.maxMessageBytes)
            )
        )
        self.outbound.writeBuffer(&preface)
        self.scheduleFlush()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.prefaceTimer = context.eventLoop.scheduleTask(in: self.shared.configuration.timeouts.preface) {
            let handler = loopBound.value
            if case .awaitingPreface = handler.state {
                handler.logger.notice("Closing connection", metadata: ["reason": "no preface before the timeout"])
                handler.sendGoAway(.prefaceTimeout, "no preface within the preface timeout")
                handler.closeConnection()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .closed = self.state {} else { self.shared.metrics.connectionClosed() }
        self.state = .closed
        self.prefaceTimer?.cancel()
        self.idleTimer?.cancel()
        self.deadlines.cancel()
        let calls = self.calls
        self.calls.removeAll()
        for (_, call) in calls {
            call.stop()
            call.metrics.finished(code: .cancelled, startedAt: call.startedAt)
        }
        self.calls.removeAll()
        self.failWritabilityWaiters()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            let waiters = self.writabilityWaiters
            self.writabilityWaiters.removeAll()
            for waiter in waiters { waiter.succeed() }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let wireError = error as? WireError {
            self.connectionError(wireError)
        } else if case .closed = self.state {
            return
        } else {
            self.logger.debug("Connection error", metadata: ["error": "\(error)"])
            self.close(context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let verified = event as? TLSPeerVerified {
            self.peerCertificateName = verified.name
            if let name = verified.name { self.logger[metadataKey: "peer.certificate"] = "\(name)" }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if event is DrainConnectionEvent {
            self.drain(reason: "server is shutting down")
            promise?.succeed()
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    // MARK: Inbound frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closed = self.state { return }
        do {
            try self.decoder.process(buffer: self.unwrapInboundIn(data)) { self.receive($0) }
        } catch let error as WireError {
            self.connectionError(error)
        } catch {
            self.connectionError(WireError(.internalError, "\(error)"))
        }
    }

    private func receive(_ event: WireEvent) {
        switch event {
        case .preface(let preface):
            self.prefaceTimer?.cancel()
            self.peerAcceptsZlib = preface.capabilities.contains(.zlib)
            self.state = .open
            self.armIdleTimer()
        case .frame(let frame):
            switch self.state {
            case .open, .draining: self.handle(frame)
            case .awaitingPreface, .closed: return
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushNow()
        context.fireChannelReadComplete()
    }

    private func handle(_ frame: Frame) {
        switch frame.type {
        case .headers: self.receiveHeaders(frame)
        case .message: self.receiveMessage(frame)
        case .cancel: self.receiveCancel(frame.callID)
        case .ping: self.receivePing(frame)
        case .goAway:
            self.logger.debug("Peer is going away")
            self.drain(reason: "the client sent GOAWAY: this connection takes no new calls")
        default:
            self.connectionError(WireError(.protocolError, "frame type \(frame.type) is not valid from a client"))
        }
    }

    private func receiveHeaders(_ frame: Frame) {
        let id = frame.callID
        guard id > self.lastCallID else {
            return self.connectionError(
                WireError(.protocolError, "call id \(id) is not above the last call id \(self.lastCallID)")
            )
        }
        self.lastCallID = id
        let limits = self.shared.configuration.limits
        guard frame.payload.readableBytes <= limits.maxMetadataBytes else {
            return self.reject(
                id,
                RPCError(
                    .resourceExhausted,
                    "metadata of \(frame.payload.readableBytes) bytes is over the limit of \(limits.maxMetadataBytes)"
                )
            )
        }
        let headers: CallHeaders
        do {
            headers = try CallHeaders.decode(from: frame.payload)
        } catch {
            return self.connectionError(error)
        }
        if case .draining(let reason) = self.state {
            return self.reject(id, RPCError(.unavailable, reason), method: headers.method)
        }
        guard self.calls.count < limits.maxConcurrentCallsPerConnection else {
            return self.reject(
                id,
                RPCError(
                    .resourceExhausted,
                    "too many concurrent calls (limit \(limits.maxConcurrentCallsPerConnection))"
                ),
                method: headers.method
            )
        }
        let now = NIODeadline.now()
        let deadline = headers.timeoutMilliseconds > 0 ? now + .milliseconds(Int64(headers.timeoutMilliseconds)) : nil
        let method = self.shared.methods[headers.method]
        let call = Call(
            method: headers.method,
            route: method?.route,
            metrics: method?.metrics ?? self.shared.metrics.unknownMethod,
            startedAt: now,
            deadline: deadline,
            metadata: headers.metadata
        )
        if let deadline, self.deadlines.needs(deadline) { self.armDeadlines(deadline) }
        call.metrics.started()
        self.calls[id] = call
        self.idleSince = nil
    }

    private func receiveMessage(_ frame: Frame) {
        let id = frame.callID
        guard id <= self.lastCallID else {
            return self.connectionError(WireError(.protocolError, "MESSAGE for call \(id), which was never opened"))
        }
        guard let call = self.calls[id] else { return }  // finished or refused already: ignore
        guard !call.dispatched, frame.flags.contains(.endStream) else {
            return self.finish(
                id,
                RPCError(.unimplemented, "a call carries exactly one request message with END_STREAM set")
            )
        }
        guard let route = call.route else {
            return self.finish(id, RPCError(.unimplemented, "method \(call.method) is not implemented by this server"))
        }
        var payload = frame.payload
        if frame.flags.contains(.compressed) {
            guard self.shared.configuration.compression.enabled else {
                return self.finish(id, RPCError(.internal, "compressed message, but compression was not negotiated"))
            }
            do {
                payload = try self.decompressor.decompress(
                    payload,
                    limit: self.shared.configuration.limits.maxMessageBytes,
                    allocator: self.context.channel.allocator
                )
            } catch .tooLarge(let limit) {
                return self.finish(
                    id,
                    RPCError(.resourceExhausted, "decompressed message is over the limit of \(limit) bytes")
                )
            } catch {
                return self.finish(id, RPCError(.internal, "compressed message could not be decompressed"))
            }
        }
        call.dispatched = true
        // The handler may run to completion inside dispatch (and the call be gone by now).
        if let task = self.dispatch(id, call, route, payload) { call.task = task }
    }

    private func receiveCancel(_ id: UInt32) {
        guard let call = self.calls.removeValue(forKey: id) else { return }
        call.stop()
        call.metrics.finished(code: .cancelled, startedAt: call.startedAt)
        self.callEnded()
    }

    private func receivePing(_ frame: Frame) {
        guard frame.payload.readableBytes == 8 else {
            return self.connectionError(WireError(.protocolError, "PING payload must be 8 bytes"))
        }
        guard !frame.flags.contains(.ack) else { return }
        self.outbound.writeFrame(Frame(type: .ping, flags: .ack, callID: 0, payload: frame.payload))
        self.scheduleFlush()
    }

    // MARK: Running calls

    private func dispatch(
        _ id: UInt32,
        _ call: Call,
        _ route: RPCRouter.Route,
        _ payload: ByteBuffer
    ) -> Task<Void, Never>? {
        if case .forward(let forwarder) = route.handler {
            let reply = CallReply(connection: NIOLoopBound(self, eventLoop: self.eventLoop), callID: id)
            forwarder.forward(
                ForwardedCall(
                    method: call.method,
                    metadata: call.metadata,
                    deadline: call.deadline,
                    request: payload,
                    peer: self.peer,
                    callID: id,
                    reply: reply
                )
            )
            return nil
        }
        let context = ServerContext(
            method: call.method,
            metadata: call.metadata,
            deadline: call.deadline,
            peer: self.peer,
            callID: id,
            peerCertificateName: self.peerCertificateName,
            logger: self.shared.logger
        )
        let limits = DecodeLimits(
            maxMessageBytes: self.shared.configuration.limits.maxMessageBytes,
            maxAllocationBytes: self.shared.configuration.limits.maxDecodeAllocationBytes
        )
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        let interceptors = self.shared.interceptors
        switch route.handler {
        case .unary(let handler):
            return self.startTask {
                let result: Result<ByteBuffer, any Error>
                do {
                    result = .success(
                        try await intercept(context, interceptors[...]) { try await handler(payload, limits, $0) }
                    )
                } catch {
                    result = .failure(error)
                }
                onLoop(loopBound) { $0.completeUnary(id, result) }
            }
        case .serverStreaming(let handler):
            let stream = RawResponseStream(connection: loopBound, callID: id)
            return self.startTask {
                var failure: (any Error)?
                do {
                    try await intercept(context, interceptors[...]) { try await handler(payload, limits, $0, stream) }
                } catch {
                    failure = error
                }
                let outcome = failure
                onLoop(loopBound) { $0.completeStream(id, outcome) }
            }
        case .forward:
            preconditionFailure("forwarded calls are handed over above")
        }
    }

    /// Starts a handler's task. On the event loop it starts immediately, on this thread: a
    /// handler that does not suspend runs to its end without being scheduled at all.
    private func startTask(_ operation: sending @escaping () async -> Void) -> Task<Void, Never> {
        if let executor = self.executor {
            return Task.immediate(executorPreference: executor, operation: operation)
        }
        return Task(operation: operation)
    }

    // MARK: Forwarded calls

    func relayMessage(_ id: UInt32, _ message: ByteBuffer) {
        guard self.calls[id] != nil else { return }
        self.writeMessage(id, message)
        self.scheduleFlush()
    }

    /// Ends a forwarded call with TRAILERS another server sent (their payload unchanged).
    func finishRelayed(_ id: UInt32, _ trailers: ByteBuffer, code: StatusCode) {
        guard let call = self.calls.removeValue(forKey: id) else { return }
        self.outbound.writeFrame(Frame(type: .trailers, callID: id, payload: trailers))
        self.flush.callWritten()
        self.scheduleFlush()
        call.metrics.finished(code: code, startedAt: call.startedAt)
        self.callEnded()
    }

    func observe(_ id: UInt32, _ observer: any ForwardedCallObserver) {
        self.calls[id]?.observer = observer
    }

    func completeUnary(_ id: UInt32, _ result: Result<ByteBuffer, any Error>) {
        guard self.calls[id] != nil else { return }
        switch result {
        case .success(let response):
            self.writeMessage(id, response)
            self.finish(id, nil)
        case .failure(let error):
            self.finish(id, error)
        }
    }

    fileprivate func completeStream(_ id: UInt32, _ error: (any Error)?) {
        guard self.calls[id] != nil else { return }
        self.finish(id, error)
    }

    fileprivate func streamSend(_ id: UInt32, _ message: ByteBuffer) -> EventLoopFuture<Void> {
        guard self.calls[id] != nil else {
            return self.eventLoop.makeFailedFuture(CancellationError())
        }
        self.writeMessage(id, message)
        self.scheduleFlush()
        guard self.context?.channel.isWritable == false else { return self.eventLoop.makeSucceededVoidFuture() }
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.writabilityWaiters.append(promise)
        return promise.futureResult
    }

    private func armDeadlines(_ deadline: NIODeadline) {
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.deadlines.arm(deadline, on: self.eventLoop) { loopBound.value.expireDue() }
    }

    /// Ends the calls whose deadline has passed; sets the timer for the next.
    private func expireDue() {
        self.deadlines.fired()
        guard case let context? = self.context, context.channel.isActive else { return }
        let (due, next) = DeadlineTimer.sweep(self.calls) { $0.deadline }
        for id in due { self.expire(id) }
        if let next { self.armDeadlines(next) }
    }

    private func expire(_ id: UInt32) {
        guard let call = self.calls[id] else { return }
        call.stop()
        self.finish(
            id,
            RPCError(
                .deadlineExceeded,
                "deadline exceeded while \(call.dispatched ? "handling" : "waiting for") the request"
            )
        )
    }

    /// Writes TRAILERS for `id` (OK when `error` is nil) and forgets the call.
    private func finish(_ id: UInt32, _ error: (any Error)?) {
        guard let call = self.calls.removeValue(forKey: id) else { return }
        let trailers = self.trailers(for: error, call: call)
        self.writeTrailers(id, trailers)
        call.metrics.finished(code: trailers.code, startedAt: call.startedAt)
        self.callEnded()
    }

    /// Answers a call that never started (no handler ran).
    private func reject(_ id: UInt32, _ error: RPCError, method: String = "unknown") {
        self.logger.debug(
            "Call refused",
            metadata: ["call.id": "\(id)", "call.method": "\(method)", "status": "\(error)"]
        )
        self.writeTrailers(id, CallTrailers(code: error.code, message: error.message, details: error.details))
        self.shared.metrics.method(method).refused(code: error.code)
    }

    private func trailers(for error: (any Error)?, call: Call) -> CallTrailers {
        switch error {
        case nil:
            return .ok
        case let error as RPCError:
            return CallTrailers(code: error.code, message: error.message, details: error.details)
        case let error as any RPCErrorConvertible:
            let mapped = error.rpcError
            if mapped.code == .internal || mapped.code == .unavailable {
                self.logger.error(
                    "Handler failed",
                    metadata: ["call.method": "\(call.method)", "error": "\(String(reflecting: error))"]
                )
            }
            return CallTrailers(code: mapped.code, message: mapped.message, details: mapped.details)
        case is CancellationError:
            if let deadline = call.deadline, deadline <= .now() {
                return CallTrailers(code: .deadlineExceeded, message: "deadline exceeded")
            }
            return CallTrailers(code: .cancelled, message: "the call was cancelled")
        case let error?:
            self.logger.error(
                "Handler failed",
                metadata: ["call.method": "\(call.method)", "error": "\(String(reflecting: error))"]
            )
            return CallTrailers(code: .internal, message: "internal error")
        }
    }

    private func callEnded() {
        guard self.calls.isEmpty else { return }
        if case .draining = self.state {
            self.closeConnection()
        } else {
            self.armIdleTimer()
        }
    }

    // MARK: Writing

    private func writeMessage(_ id: UInt32, _ message: ByteBuffer) {
        let compression = self.shared.configuration.compression
        let compress =
            compression.enabled && self.peerAcceptsZlib && message.readableBytes >= compression.thresholdBytes
        self.outbound.writeMessageFrame(
            callID: id,
            flags: [],
            message: message,
            compressor: compress ? self.compressor : nil
        )
    }

    private func writeTrailers(_ id: UInt32, _ trailers: CallTrailers) {
        self.outbound.writeFrame(type: .trailers, callID: id) { trailers.encode(into: &$0) }
        self.flush.callWritten()
        self.scheduleFlush()
    }

    private func scheduleFlush() {
        switch self.flush.step(pendingBytes: self.outbound.readableBytes) {
        case .writeNow:
            self.flushNow()
        case .scheduleWrite:
            let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
            self.eventLoop.execute { loopBound.value.flushNow() }
        case .wait:
            break
        }
    }

    private func flushNow() {
        self.flush.written()
        let keepRoom = !self.calls.isEmpty
        guard case let context? = self.context,
            let pending = self.outbound.takePending(
                keepRoom: keepRoom,
                spare: &self.spare,
                allocator: context.channel.allocator
            )
        else { return }
        context.writeAndFlush(self.wrapOutboundOut(pending), promise: nil)
        if keepRoom { self.spare = pending.recycled() }
    }

    // MARK: Connection lifecycle

    /// Marks the connection idle from now and makes sure one timer watches it. The timer is not
    /// cancelled when a call starts (that would cost a schedule and a cancel per busy moment): when
    /// it fires it closes the connection only if it has been idle for the whole timeout, and
    /// otherwise sets itself again for the time that is left.
    private func armIdleTimer() {
        guard case .open = self.state else { return }
        self.idleSince = self.eventLoop.now
        guard self.idleTimer == nil else { return }
        self.scheduleIdleCheck(in: self.shared.configuration.timeouts.idle)
    }

    private func scheduleIdleCheck(in delay: TimeAmount) {
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.idleTimer = self.eventLoop.scheduleTask(in: delay) {
            loopBound.value.checkIdle()
        }
    }

    private func checkIdle() {
        self.idleTimer = nil
        guard case .open = self.state, let idleSince = self.idleSince, self.calls.isEmpty else { return }
        let left = idleSince + self.shared.configuration.timeouts.idle - self.eventLoop.now
        guard left <= .zero else { return self.scheduleIdleCheck(in: left) }
        self.logger.debug("Closing idle connection")
        self.sendGoAway(.idleTimeout, "connection was idle")
        self.closeConnection()
    }

    private func drain(reason: String) {
        switch self.state {
        case .open:
            self.state = .draining(reason: reason)
            self.sendGoAway(.noError, reason)
            self.idleTimer?.cancel()
            if self.calls.isEmpty { self.closeConnection() }
        case .awaitingPreface:
            self.closeConnection()
        case .draining, .closed:
            return
        }
    }

    private func connectionError(_ error: WireError) {
        if case .closed = self.state { return }
        self.logger.notice(
            "Closing connection after a protocol error",
            metadata: ["reason": "\(error.reason)", "code": "\(error.code)"]
        )
        self.sendGoAway(error.code, error.reason)
        for (_, call) in self.calls {
            call.stop()
        }
        self.closeConnection()
    }

    private func sendGoAway(_ code: GoAwayCode, _ reason: String) {
        let goAway = GoAway(lastCallID: self.lastCallID, code: code, reason: reason)
        self.outbound.writeFrame(type: .goAway, callID: 0) { goAway.encode(into: &$0) }
        self.flushNow()
    }

    private func closeConnection() {
        guard let context = self.context else { return }
        self.close(context: context)
    }

    private func close(context: ChannelHandlerContext) {
        if case .closed = self.state { return }
        self.flushNow()
        self.shared.metrics.connectionClosed()
        self.state = .closed
        self.failWritabilityWaiters()
        context.close(promise: nil)
    }

    private func failWritabilityWaiters() {
        let waiters = self.writabilityWaiters
        self.writabilityWaiters.removeAll()
        for waiter in waiters { waiter.fail(CancellationError()) }
    }
}

/// Runs `body` with the handler now when already on its event loop, else enqueues it there.
private func onLoop(
    _ loopBound: NIOLoopBound<ServerConnectionHandler>,
    _ body: @escaping @Sendable (ServerConnectionHandler) -> Void
) {
    if loopBound.eventLoop.inEventLoop {
        body(loopBound.value)
    } else {
        loopBound.eventLoop.execute { body(loopBound.value) }
    }
}

/// Runs `body` inside the interceptors, outermost first.
private func intercept<R: Sendable>(
    _ context: ServerContext,
    _ interceptors: ArraySlice<any ServerInterceptor>,
    _ body: @escaping @Sendable (ServerContext) async throws -> R
) async throws -> R {
    guard let first = interceptors.first else { return try await body(context) }
    let rest = interceptors.dropFirst()
    return try await first.intercept(context: context) { try await intercept($0, rest, body) }
}

/// The raw side of ``ResponseStream``: sends encoded responses on the call's connection.
public struct RawResponseStream: Sendable {
    let connection: NIOLoopBound<ServerConnectionHandler>
    let callID: UInt32

    /// Sends one encoded response; waits while the connection cannot take more (backpressure).
    public func send(_ message: ByteBuffer) async throws {
        let connection = self.connection
        let id = self.callID
        try await connection.eventLoop.flatSubmit { connection.value.streamSend(id, message) }.get()
    }
}
