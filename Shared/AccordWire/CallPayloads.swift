public import NIOCore

/// The payload of a HEADERS frame: which method, how long the caller will wait, metadata.
public struct CallHeaders: Hashable, Sendable {
    /// `/package.Service/Method`.
    public var method: String
    /// Milliseconds the caller will wait, counted from when the frame is received; 0 = no deadline.
    public var timeoutMilliseconds: UInt32
    public var metadata: Metadata

    public init(method: String, timeoutMilliseconds: UInt32 = 0, metadata: Metadata = Metadata()) {
        self.method = method
        self.timeoutMilliseconds = timeoutMilliseconds
        self.metadata = metadata
    }

    /// `timeout_ms u32, method_len u16, method, metadata`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(self.timeoutMilliseconds)
        buffer.writeInteger(UInt16(self.method.utf8.count))
        buffer.writeString(self.method)
        buffer.writeMetadata(self.metadata)
    }

    public static func decode(from payload: ByteBuffer) throws(WireError) -> CallHeaders {
        var payload = payload
        guard let timeout = payload.readInteger(as: UInt32.self),
            let methodLength = payload.readInteger(as: UInt16.self),
            let method = payload.readString(length: Int(methodLength))
        else {
            throw WireError(.protocolError, "HEADERS payload is truncated")
        }
        let metadata = try payload.readMetadata()
        guard payload.readableBytes == 0 else {
            throw WireError(.protocolError, "HEADERS payload has \(payload.readableBytes) trailing bytes")
        }
        return CallHeaders(method: method, timeoutMilliseconds: timeout, metadata: metadata)
    }
}

/// The payload of a TRAILERS frame: how the call ended.
public struct CallTrailers: Hashable, Sendable {
    public var code: StatusCode
    /// For people: what went wrong, naming the field or state at fault.
    public var message: String
    /// For programs: an encoded `accord.v1.ErrorDetails`, or empty.
    public var details: [UInt8]
    public var metadata: Metadata

    public init(code: StatusCode, message: String = "", details: [UInt8] = [], metadata: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.details = details
        self.metadata = metadata
    }

    public static let ok = CallTrailers(code: .ok)

    /// `code u8, message_len u16, message, details_len u32, details, metadata`.
    /// A message longer than 65,535 bytes is cut at a character boundary.
    public func encode(into buffer: inout ByteBuffer) {
        var message = Substring(self.message)
        while message.utf8.count > Int(UInt16.max) { message = message.dropLast() }
        buffer.writeInteger(self.code.rawValue)
        buffer.writeInteger(UInt16(message.utf8.count))
        buffer.writeSubstring(message)
        buffer.writeInteger(UInt32(self.details.count))
        buffer.writeBytes(self.details)
        buffer.writeMetadata(self.metadata)
    }

    public static func decode(from payload: ByteBuffer) throws(WireError) -> CallTrailers {
        var payload = payload
        guard let code = payload.readInteger(as: UInt8.self),
            let messageLength = payload.readInteger(as: UInt16.self),
            let message = payload.readString(length: Int(messageLength)),
            let detailsLength = payload.readInteger(as: UInt32.self),
            let details = payload.readBytes(length: Int(detailsLength))
        else {
            throw WireError(.protocolError, "TRAILERS payload is truncated")
        }
        let metadata = try payload.readMetadata()
        return CallTrailers(code: StatusCode(wireValue: code), message: message, details: details, metadata: metadata)
    }

    /// The status of an encoded TRAILERS payload, checking its shape (lengths within the
    /// payload, metadata keys valid) without decoding its text: for passing it on unchanged.
    public static func code(of payload: ByteBuffer) throws(WireError) -> StatusCode {
        var payload = payload
        guard let code = payload.readInteger(as: UInt8.self),
            let messageLength = payload.readInteger(as: UInt16.self),
            payload.readSlice(length: Int(messageLength)) != nil,
            let detailsLength = payload.readInteger(as: UInt32.self),
            payload.readSlice(length: Int(detailsLength)) != nil
        else {
            throw WireError(.protocolError, "TRAILERS payload is truncated")
        }
        if payload.readableBytes != 2 || payload.getInteger(at: payload.readerIndex, as: UInt16.self) != 0 {
            _ = try payload.readMetadata()
        }
        return StatusCode(wireValue: code)
    }
}

/// The payload of a GOAWAY frame.
public struct GoAway: Hashable, Sendable {
    /// The highest call id the sender has accepted (or will finish); calls above it were not
    /// processed and may be sent again on another connection.
    public var lastCallID: UInt32
    public var code: GoAwayCode
    public var reason: String

    public init(lastCallID: UInt32, code: GoAwayCode, reason: String) {
        self.lastCallID = lastCallID
        self.code = code
        self.reason = reason
    }

    /// `last_call_id u32, code u32, reason_len u16, reason`.
    public func encode(into buffer: inout ByteBuffer) {
        var reason = Substring(self.reason)
        while reason.utf8.count > Int(UInt16.max) { reason = reason.dropLast() }
        buffer.writeMultipleIntegers(self.lastCallID, self.code.rawValue, UInt16(reason.utf8.count))
        buffer.writeSubstring(reason)
    }

    public static func decode(from payload: ByteBuffer) throws(WireError) -> GoAway {
        var payload = payload
        guard let (last, code, reasonLength) = payload.readMultipleIntegers(as: (UInt32, UInt32, UInt16).self),
            let reason = payload.readString(length: Int(reasonLength))
        else {
            throw WireError(.protocolError, "GOAWAY payload is truncated")
        }
        return GoAway(lastCallID: last, code: GoAwayCode(wireValue: code), reason: reason)
    }
}
