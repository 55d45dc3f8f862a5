public import NIOCore

/// What the decoder reads off a connection: the peer's preface once, then frames.
public enum WireEvent: Hashable, Sendable {
    case preface(Preface)
    case frame(Frame)
}

/// Splits the inbound byte stream into the peer's preface and frames.
///
/// It knows bytes, not meanings: a frame's length is checked against ``maxFrameLength`` before
/// its body is read, a wrong magic fails on the first byte that differs, and everything else
/// (frame types, call ids, payloads) is for the connection handler.
public struct WireDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = WireEvent

    /// The role the peer must announce.
    public let peerRole: Preface.Role
    public let maxFrameLength: Int
    private var prefaceSeen = false

    /// - Parameter expectsPreface: false to decode frames only (a stream whose preface was read).
    public init(peerRole: Preface.Role, maxFrameLength: Int, expectsPreface: Bool = true) {
        self.peerRole = peerRole
        self.maxFrameLength = maxFrameLength
        self.prefaceSeen = !expectsPreface
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> WireEvent? {
        if !self.prefaceSeen {
            return try self.decodePreface(&buffer)
        }
        guard
            let (length, type, flags, callID) = buffer.getMultipleIntegers(
                at: buffer.readerIndex,
                as: (UInt32, UInt8, UInt8, UInt32).self
            )
        else {
            return nil
        }
        guard Int(length) <= self.maxFrameLength else {
            throw WireError(.frameTooLarge, "frame of \(length) bytes is over the limit of \(self.maxFrameLength)")
        }
        guard buffer.readableBytes >= Frame.headerSize + Int(length) else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        let payload = buffer.readSlice(length: Int(length))!
        return .frame(
            Frame(type: FrameType(rawValue: type), flags: FrameFlags(rawValue: flags), callID: callID, payload: payload)
        )
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> WireEvent? {
        try self.decode(buffer: &buffer)
    }

    private mutating func decodePreface(_ buffer: inout ByteBuffer) throws -> WireEvent? {
        let available = min(buffer.readableBytes, Preface.magic.count)
        if let head = buffer.getBytes(at: buffer.readerIndex, length: available),
            head[...] != Preface.magic[..<available]
        {
            // A TLS record starts with its type (0x15 alert, 0x16 handshake) and version 3.x.
            if let first = head.first, first == 0x15 || first == 0x16,
                available < 2 || head[head.startIndex + 1] == 0x03
            {
                throw WireError(
                    .protocolError,
                    "bad preface: the peer speaks TLS, and this side of the connection is in clear"
                )
            }
            throw WireError(.protocolError, "bad preface: the peer does not speak the Accord protocol")
        }
        guard buffer.readableBytes >= Preface.size else { return nil }
        buffer.moveReaderIndex(forwardBy: Preface.magic.count)
        let (version, role, capabilities, maxMessage) = buffer.readMultipleIntegers(
            as: (UInt8, UInt8, UInt16, UInt32).self
        )!
        guard version == Preface.currentVersion else {
            throw WireError(.unsupportedVersion, "protocol version \(version) is not supported (speaks 1)")
        }
        guard let role = Preface.Role(rawValue: role), role == self.peerRole else {
            throw WireError(.protocolError, "bad preface: peer role \(role), expected \(self.peerRole)")
        }
        self.prefaceSeen = true
        return .preface(
            Preface(
                version: version,
                role: role,
                capabilities: Preface.Capabilities(rawValue: capabilities),
                maxMessageBytes: maxMessage
            )
        )
    }
}
