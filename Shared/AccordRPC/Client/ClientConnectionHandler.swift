import AccordWire
import NIOCore

/// Lets the task that started a call cancel it later: the id is set and read on the event loop.
final class CallHandle: @unchecked Sendable {
    var id: UInt32 = 0
}

/// One client connection on its event loop: numbers calls, writes their frames, routes
/// responses back to the waiting callers, pings when the server is silent.
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private enum Responder {
        case unary(EventLoopPromise<ByteBuffer>, response: ByteBuffer?)
        case stream(AsyncThrowingStream<ByteBuffer, any Error>.Continuation)
        case relay(any RelaySink)
        /// A stream whose reader holds back this connection's reads (a connection of its own).
        case pausing(PausingStream.Source)
    }

    private struct Call {
        var responder: Responder
        var deadline: NIODeadline?
    }

    private let configuration: ClientConfiguration
    private let onReady: EventLoopPromise<Preface>
    /// Called once when the connection stops taking calls (GOAWAY or close).
    private let onUnusable: @Sendable () -> Void
    private var calls: [UInt32: Call] = [:]
    private var nextCallID: UInt32 = 1
    private var serverPreface: Preface?
    private var acceptingCalls = true
    private var closed = false
    private var outbound = ByteBuffer()
    /// The buffer written last, emptied for reuse.
    private var spare: ByteBuffer?
    private var flush: FlushPolicy
    private lazy var compressor = ZlibCompressor()
    private lazy var decompressor = ZlibDecompressor()
    /// The pipeline's context while the handler is in it: let go in `handlerRemoved`, since the
    /// context holds the handler (kept, the pair and the channel's buffers would never be freed).
    private var context: ChannelHandlerContext?
    /// The connection's loop and allocator, which outlive the context.
    private var eventLoop: (any EventLoop)!
    private var allocator = ByteBufferAllocator()
    private var lastRead = NIODeadline.now()
    private var keepaliveTimer: RepeatedTask?
    private var pingSentAt: NIODeadline?
    /// Set for the earliest deadline of the calls in progress.
    private var deadlines = DeadlineTimer()
    /// A pausing stream's reader is behind: no more reads until it catches up.
    private var readsPaused = false
    /// A read was asked for while paused.
    private var readPending = false

    /// Frames are cut here rather than in a separate decoder handler (one pipeline hop less).
    private let decoder: NIOSingleStepByteToMessageProcessor<WireDecoder>

    init(
        configuration: ClientConfiguration,
        onReady: EventLoopPromise<Preface>,
        onUnusable: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.flush = FlushPolicy(everyCalls: configuration.flushEveryCalls)
        self.decoder = NIOSingleStepByteToMessageProcessor(
            WireDecoder(peerRole: .server, maxFrameLength: configuration.maxMessageBytes + 1024)
        )
        self.onReady = onReady
        self.onUnusable = onUnusable
    }

    var isAcceptingCalls: Bool { self.acceptingCalls && !self.closed }
    var activeCalls: Int { self.calls.count }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.eventLoop = context.eventLoop
        self.allocator = context.channel.allocator
        self.outbound = context.channel.allocator.buffer(capacity: 64)
        self.outbound.writePreface(
            Preface(
                role: .client,
                capabilities: self.configuration.compressionThresholdBytes == nil ? [] : .zlib,
                maxMessageBytes: UInt32(self.configuration.maxMessageBytes)
            )
        )
        if context.channel.isActive { self.flushNow() }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let interval = self.configuration.keepaliveInterval
        self.keepaliveTimer = context.eventLoop.scheduleRepeatedTask(
            initialDelay: interval,
            delay: .nanoseconds(max(interval.nanoseconds / 4, 1_000_000))
        ) { _ in
            loopBound.value.keepaliveTick()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.shutDown(RPCError(.unavailable, "connection to the server closed"))
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.flushNow()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.shutDown(RPCError(.unavailable, "connection to the server closed"))
        context.fireChannelInactive()
    }

    /// Fails the connection from inside the handler (a frame it cannot take): as `errorCaught`.
    private func failConnection(_ error: any Error) {
        guard let context = self.context else { return }
        self.errorCaught(context: context, error: error)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = (error as? WireError)?.description ?? (error as? TLSHandshakeFailure)?.description ?? "\(error)"
        self.shutDown(RPCError(.unavailable, "connection failed: \(reason)"))
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closed else { return }
        self.lastRead = .now()
        self.pingSentAt = nil
        do {
            try self.decoder.process(buffer: self.unwrapInboundIn(data)) { self.receive($0) }
        } catch {
            self.errorCaught(context: context, error: error)
        }
    }

    private func receive(_ event: WireEvent) {
        switch event {
        case .preface(let preface):
            self.serverPreface = preface
            self.onReady.succeed(preface)
        case .frame(let frame):
            self.handle(frame)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushNow()
        context.fireChannelReadComplete()
    }

    private func handle(_ frame: Frame) {
        switch frame.type {
        case .message: self.receiveMessage(frame)
        case .trailers: self.receiveTrailers(frame)
        case .ping:
            if !frame.flags.contains(.ack) {
                self.outbound.writeFrame(Frame(type: .ping, flags: .ack, callID: 0, payload: frame.payload))
            }
        case .goAway: self.receiveGoAway(frame)
        default:
            self.failConnection(WireError(.protocolError, "unexpected \(frame.type) frame"))
        }
    }

    private func receiveMessage(_ frame: Frame) {
        guard var call = self.calls[frame.callID] else { return }
        var payload = frame.payload
        if frame.flags.contains(.compressed) {
            do {
                payload = try self.decompressor.decompress(
                    payload,
                    limit: self.configuration.maxMessageBytes,
                    allocator: self.allocator
                )
            } catch {
                return self.complete(frame.callID, .failure(RPCError(.internal, "response could not be decompressed")))
            }
        }
        switch call.responder {
        case .unary(let promise, nil):
            call.responder = .unary(promise, response: payload)
            self.calls[frame.callID] = call
        case .unary:
            self.complete(frame.callID, .failure(RPCError(.internal, "server sent two responses to a unary call")))
        case .stream(let continuation):
            continuation.yield(payload)
        case .relay(let sink):
            sink.relayed(message: payload)
        case .pausing(let source):
            if case .stopProducing = source.yield(payload) { self.readsPaused = true }
        }
    }

    /// Holds reads back while a pausing stream's reader is behind.
    func read(context: ChannelHandlerContext) {
        if self.readsPaused {
            self.readPending = true
        } else {
            context.read()
        }
    }

    /// The pausing stream's reader wants more.
    func resumeReading() {
        guard self.readsPaused else { return }
        self.readsPaused = false
        if self.readPending {
            self.readPending = false
            self.context?.read()
        }
    }

    private func receiveTrailers(_ frame: Frame) {
        guard let call = self.calls[frame.callID] else { return }
        if case .relay(let sink) = call.responder {
            // Passed on as they came: only their shape is checked and their code read.
            do {
                let code = try CallTrailers.code(of: frame.payload)
                self.calls.removeValue(forKey: frame.callID)
                sink.relayed(trailers: frame.payload, code: code)
            } catch {
                self.failConnection(error)
            }
            return
        }
        do {
            let trailers = try CallTrailers.decode(from: frame.payload)
            if trailers.code == .ok {
                self.complete(frame.callID, .success(()))
            } else {
                var answered = RPCError(trailers.code, trailers.message, details: trailers.details)
                answered.answeredByPeer = true
                self.complete(frame.callID, .failure(answered))
            }
        } catch {
            self.failConnection(error)
        }
    }

    private func receiveGoAway(_ frame: Frame) {
        guard let goAway = try? GoAway.decode(from: frame.payload) else { return }
        self.stopAcceptingCalls()
        for id in self.calls.keys where id > goAway.lastCallID {
            self.complete(id, .failure(RPCError(.unavailable, "server is going away: \(goAway.reason)")))
        }
        if goAway.code != .noError {
            self.shutDown(RPCError(.unavailable, "server closed the connection: \(goAway.code): \(goAway.reason)"))
        }
    }

    // MARK: Calls

    /// Starts a unary call; the future completes with the response message or an ``RPCError``.
    func startUnary(
        path: String,
        options: CallOptions,
        request: ByteBuffer,
        handle: CallHandle
    ) -> EventLoopFuture<ByteBuffer> {
        let promise = self.eventLoop.makePromise(of: ByteBuffer.self)
        guard let id = self.open(path: path, options: options, request: request, handle: handle) else {
            promise.fail(RPCError(.unavailable, "connection is not accepting new calls"))
            return promise.futureResult
        }
        self.register(id, .unary(promise, response: nil), timeout: options.timeout)
        return promise.futureResult
    }

    /// Starts a server-streaming call whose responses go to `continuation`.
    func startStream(
        path: String,
        options: CallOptions,
        request: ByteBuffer,
        handle: CallHandle,
        continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    ) {
        guard let id = self.open(path: path, options: options, request: request, handle: handle) else {
            continuation.finish(throwing: RPCError(.unavailable, "connection is not accepting new calls"))
            return
        }
        self.register(id, .stream(continuation), timeout: options.timeout)
    }

    /// Starts a server-streaming call whose responses go to `source`, reads held back while its
    /// reader is behind: for a connection that carries this call only.
    func startPausingStream(
        path: String,
        options: CallOptions,
        request: ByteBuffer,
        handle: CallHandle,
        source: PausingStream.Source
    ) {
        guard let id = self.open(path: path, options: options, request: request, handle: handle) else {
            source.finish(RPCError(.unavailable, "connection is not accepting new calls"))
            return
        }
        self.register(id, .pausing(source), timeout: options.timeout)
    }

    /// Starts a unary call whose answer goes to `sink` as it arrives (a proxy's forwarded call);
    /// nil when the connection takes no new calls.
    func startRelay(path: String, options: CallOptions, request: ByteBuffer, sink: any RelaySink) -> UInt32? {
        guard let id = self.open(path: path, options: options, request: request, handle: nil) else { return nil }
        self.register(id, .relay(sink), timeout: options.timeout)
        return id
    }

    /// Abandons a relayed call without telling its sink: CANCEL to the server.
    func cancelRelay(_ id: UInt32) {
        guard self.calls.removeValue(forKey: id) != nil else { return }
        self.outbound.writeFrame(Frame(type: .cancel, callID: id, payload: ByteBuffer()))
        self.scheduleFlush()
    }

    /// Abandons a call: CANCEL to the server, CANCELLED to the caller.
    func cancel(_ handle: CallHandle) {
        let id = handle.id
        guard self.calls[id] != nil else { return }
        self.outbound.writeFrame(Frame(type: .cancel, callID: id, payload: ByteBuffer()))
        self.scheduleFlush()
        self.complete(id, .failure(RPCError(.cancelled, "the call was cancelled by the client")))
    }

    /// Writes a call's frames; its id is also left in `handle` (for a later cancel), when given.
    private func open(path: String, options: CallOptions, request: ByteBuffer, handle: CallHandle?) -> UInt32? {
        guard self.isAcceptingCalls, self.nextCallID < UInt32.max else { return nil }
        let id = self.nextCallID
        self.nextCallID += 1
        handle?.id = id
        var timeoutMilliseconds: UInt32 = 0
        if let timeout = options.timeout {
            timeoutMilliseconds = UInt32(clamping: max(1, (timeout.nanoseconds + 999_999) / 1_000_000))
        }
        let headers = CallHeaders(method: path, timeoutMilliseconds: timeoutMilliseconds, metadata: options.metadata)
        self.outbound.writeFrame(type: .headers, callID: id) { headers.encode(into: &$0) }
        self.writeRequest(id, request)
        self.flush.callWritten()
        self.scheduleFlush()
        return id
    }

    private func writeRequest(_ id: UInt32, _ request: ByteBuffer) {
        var compress = false
        if let threshold = self.configuration.compressionThresholdBytes {
            compress = request.readableBytes >= threshold && self.serverPreface?.capabilities.contains(.zlib) == true
        }
        self.outbound.writeMessageFrame(
            callID: id,
            flags: .endStream,
            message: request,
            compressor: compress ? self.compressor : nil
        )
    }

    private func register(_ id: UInt32, _ responder: Responder, timeout: TimeAmount?) {
        let deadline = timeout.map { NIODeadline.now() + $0 }
        self.calls[id] = Call(responder: responder, deadline: deadline)
        if let deadline, self.deadlines.needs(deadline) { self.armDeadlines(deadline) }
    }

    private func armDeadlines(_ deadline: NIODeadline) {
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.deadlines.arm(deadline, on: self.eventLoop) { loopBound.value.expireDue() }
    }

    /// Ends the calls whose deadline has passed; sets the timer for the next.
    private func expireDue() {
        self.deadlines.fired()
        guard !self.closed else { return }
        let (due, next) = DeadlineTimer.sweep(self.calls) { $0.deadline }
        for id in due { self.expire(id) }
        if let next { self.armDeadlines(next) }
    }

    private func expire(_ id: UInt32) {
        guard self.calls[id] != nil else { return }
        self.outbound.writeFrame(Frame(type: .cancel, callID: id, payload: ByteBuffer()))
        self.scheduleFlush()
        self.complete(id, .failure(RPCError(.deadlineExceeded, "deadline exceeded")))
    }

    private func complete(_ id: UInt32, _ result: Result<Void, RPCError>) {
        guard let call = self.calls.removeValue(forKey: id) else { return }
        switch (call.responder, result) {
        case (.unary(let promise, let response?), .success):
            promise.succeed(response)
        case (.unary(let promise, nil), .success):
            promise.fail(RPCError(.internal, "server ended a unary call without a response"))
        case (.unary(let promise, _), .failure(let error)):
            promise.fail(error)
        case (.stream(let continuation), .success):
            continuation.finish()
        case (.stream(let continuation), .failure(let error)):
            continuation.finish(throwing: error)
        case (.relay(let sink), .failure(let error)):
            sink.relayFailed(error)
        case (.relay(let sink), .success):
            sink.relayFailed(RPCError(.internal, "the server ended the call without its trailers"))
        case (.pausing(let source), .success):
            source.finish()
        case (.pausing(let source), .failure(let error)):
            source.finish(error)
        }
    }

    // MARK: Connection

    private func keepaliveTick() {
        // Silence while reads are held back is this side's doing, not the server's.
        guard !self.readsPaused else { return }
        let now = NIODeadline.now()
        if let sent = self.pingSentAt {
            if now - sent > self.configuration.keepaliveTimeout {
                let goAway = GoAway(lastCallID: 0, code: .keepaliveTimeout, reason: "no answer to a keepalive ping")
                self.outbound.writeFrame(type: .goAway, callID: 0) { goAway.encode(into: &$0) }
                self.flushNow()
                self.shutDown(RPCError(.unavailable, "server did not answer a keepalive ping"))
                self.context?.close(promise: nil)
            }
        } else if now - self.lastRead >= self.configuration.keepaliveInterval {
            self.pingSentAt = now
            var payload = ByteBuffer()
            payload.writeInteger(UInt64(now.uptimeNanoseconds))
            self.outbound.writeFrame(Frame(type: .ping, callID: 0, payload: payload))
            self.scheduleFlush()
        }
    }

    /// Sends GOAWAY and closes once the calls in progress are done.
    func close() {
        self.stopAcceptingCalls()
        if !self.closed {
            let goAway = GoAway(lastCallID: 0, code: .noError, reason: "client is closing")
            self.outbound.writeFrame(type: .goAway, callID: 0) { goAway.encode(into: &$0) }
            self.flushNow()
        }
        self.shutDown(RPCError(.cancelled, "the client closed the connection"))
        self.context?.close(promise: nil)
    }

    private func stopAcceptingCalls() {
        guard self.acceptingCalls else { return }
        self.acceptingCalls = false
        self.onUnusable()
    }

    private func shutDown(_ error: RPCError) {
        self.stopAcceptingCalls()
        guard !self.closed else { return }
        self.closed = true
        self.keepaliveTimer?.cancel()
        self.deadlines.cancel()
        self.onReady.fail(error)
        for id in Array(self.calls.keys) {
            self.complete(id, .failure(error))
        }
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
        guard !self.closed || self.context?.channel.isActive == true,
            let pending = self.outbound.takePending(
                keepRoom: keepRoom,
                spare: &self.spare,
                allocator: self.allocator
            )
        else { return }
        self.context?.writeAndFlush(self.wrapOutboundOut(pending), promise: nil)
        if keepRoom { self.spare = pending.recycled() }
    }
}
