public import NIOCore

/// The kind of a frame: byte 4 of its header.
public struct FrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Client to server: opens a call (method, deadline, metadata).
    public static let headers = FrameType(rawValue: 0x01)
    /// Either way: one message of a call.
    public static let message = FrameType(rawValue: 0x02)
    /// Server to client: ends a call with its status.
    public static let trailers = FrameType(rawValue: 0x03)
    /// Client to server: the client abandons a call.
    public static let cancel = FrameType(rawValue: 0x04)
    /// Either way: liveness check, answered with the ACK flag.
    public static let ping = FrameType(rawValue: 0x05)
    /// Either way: the sender closes the connection after the calls up to a given id.
    public static let goAway = FrameType(rawValue: 0x06)

    public var isKnown: Bool { (0x01...0x06).contains(self.rawValue) }

    public var description: String {
        switch self {
        case .headers: "HEADERS"
        case .message: "MESSAGE"
        case .trailers: "TRAILERS"
        case .cancel: "CANCEL"
        case .ping: "PING"
        case .goAway: "GOAWAY"
        default: "UNKNOWN(0x\(String(self.rawValue, radix: 16)))"
        }
    }
}

/// Flag bits: byte 5 of a frame header. Their meaning depends on the frame type.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// MESSAGE: the payload is zlib-compressed.
    public static let compressed = FrameFlags(rawValue: 0x01)
    /// MESSAGE from a client: the last (and only) request message of the call.
    public static let endStream = FrameFlags(rawValue: 0x02)
    /// PING: this is the answer to a ping.
    public static let ack = FrameFlags(rawValue: 0x01)
}

/// A frame: a 10-byte header (length, type, flags, call id) and `length` bytes of payload.
public struct Frame: Hashable, Sendable {
    /// Bytes in the header: 4 length, 1 type, 1 flags, 4 call id.
    public static let headerSize = 10

    public var type: FrameType
    public var flags: FrameFlags
    /// 0 for connection frames (PING, GOAWAY), otherwise the call's id.
    public var callID: UInt32
    public var payload: ByteBuffer

    public init(type: FrameType, flags: FrameFlags = [], callID: UInt32, payload: ByteBuffer) {
        self.type = type
        self.flags = flags
        self.callID = callID
        self.payload = payload
    }
}

extension ByteBuffer {
    /// Writes a frame header for a payload of `length` bytes that the caller writes next.
    @inlinable
    public mutating func writeFrameHeader(length: Int, type: FrameType, flags: FrameFlags, callID: UInt32) {
        self.writeMultipleIntegers(UInt32(length), type.rawValue, flags.rawValue, callID)
    }

    /// Writes a frame whose payload `body` writes, then fills in the frame's length.
    @inlinable
    public mutating func writeFrame(
        type: FrameType,
        flags: FrameFlags = [],
        callID: UInt32,
        body: (inout ByteBuffer) -> Void
    ) {
        let headerIndex = self.writerIndex
        self.writeFrameHeader(length: 0, type: type, flags: flags, callID: callID)
        body(&self)
        self.setInteger(UInt32(self.writerIndex - headerIndex - Frame.headerSize), at: headerIndex)
    }

    /// Writes a whole frame.
    public mutating func writeFrame(_ frame: Frame) {
        self.writeFrameHeader(
            length: frame.payload.readableBytes,
            type: frame.type,
            flags: frame.flags,
            callID: frame.callID
        )
        self.writeImmutableBuffer(frame.payload)
    }
}
