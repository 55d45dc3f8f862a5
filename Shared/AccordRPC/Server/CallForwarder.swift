public import AccordWire
public import NIOCore

/// Forwards unary calls to another server without a Swift task: a proxy's route.
///
/// The server calls ``forward(_:)`` on the connection's event loop once the request message has
/// arrived (decompressed and within the limits); the forwarder answers through the call's
/// ``CallReply``, at once or later, on that loop or from anywhere. The server's interceptors do
/// not run for these routes: the forwarder checks the caller itself.
public protocol CallForwarder: Sendable {
    func forward(_ call: ForwardedCall)
}

/// What a forwarder leaves with a call to hear that the caller went away first (cancelled,
/// disconnected, or the connection failed): it then stops the call it made. Called on the loop.
public protocol ForwardedCallObserver: AnyObject {
    func callerWentAway()
}

/// A unary call handed to a ``CallForwarder``, on its connection's event loop.
public struct ForwardedCall: Sendable {
    /// `/accord.v1.Service/Method`.
    public let method: String
    public let metadata: Metadata
    /// When the caller stops waiting, if it set a deadline.
    public let deadline: NIODeadline?
    /// The request message, as the caller encoded it.
    public let request: ByteBuffer
    /// The peer's address.
    public let peer: String
    public let callID: UInt32
    public let reply: CallReply

    /// The loop the call arrived on.
    public var eventLoop: any EventLoop { self.reply.eventLoop }
}

/// Answers a forwarded call. Every method may be called from any thread (it goes to the
/// connection's loop); after the call has ended, or once the caller went away, each does nothing.
public struct CallReply: Sendable {
    let connection: NIOLoopBound<ServerConnectionHandler>
    let callID: UInt32

    public var eventLoop: any EventLoop { self.connection.eventLoop }

    /// Sends one response message.
    public func send(_ message: ByteBuffer) {
        if self.eventLoop.inEventLoop {
            self.connection.value.relayMessage(self.callID, message)
        } else {
            let (connection, id) = (self.connection, self.callID)
            self.eventLoop.execute { connection.value.relayMessage(id, message) }
        }
    }

    /// Ends the call with the TRAILERS payload another server sent, unchanged; `code` is the
    /// status it carries (for the metrics).
    public func finish(relaying trailers: ByteBuffer, code: StatusCode) {
        if self.eventLoop.inEventLoop {
            self.connection.value.finishRelayed(self.callID, trailers, code: code)
        } else {
            let (connection, id) = (self.connection, self.callID)
            self.eventLoop.execute { connection.value.finishRelayed(id, trailers, code: code) }
        }
    }

    /// Ends the call: with its one response, or with an error (an ``RPCError`` keeps its status).
    public func finish(_ result: Result<ByteBuffer, any Error>) {
        if self.eventLoop.inEventLoop {
            self.connection.value.completeUnary(self.callID, result)
        } else {
            let (connection, id) = (self.connection, self.callID)
            self.eventLoop.execute { connection.value.completeUnary(id, result) }
        }
    }

    /// Tells `observer` when the caller goes away before the call ends. On the loop only.
    public func observe(_ observer: any ForwardedCallObserver) {
        self.connection.value.observe(self.callID, observer)
    }
}
