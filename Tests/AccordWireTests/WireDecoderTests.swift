import AccordWire
import NIOCore
import NIOTestUtils
import Testing

@Suite("Frame decoding")
struct WireDecoderTests {
    static let clientPreface = Preface(role: .client, capabilities: .zlib, maxMessageBytes: 4 << 20)

    static func frame(_ type: FrameType, flags: FrameFlags = [], id: UInt32, _ bytes: [UInt8]) -> Frame {
        Frame(type: type, flags: flags, callID: id, payload: ByteBuffer(bytes: bytes))
    }

    static func encode(_ preface: Preface?, _ frames: [Frame]) -> ByteBuffer {
        var buffer = ByteBuffer()
        if let preface { buffer.writePreface(preface) }
        for frame in frames { buffer.writeFrame(frame) }
        return buffer
    }

    @Test("frames survive the verifier: byte by byte, all at once, shuffled")
    func verifier() throws {
        let frames = [
            Self.frame(.headers, id: 1, [0, 0, 0, 0, 0, 1, 0x2F, 0, 0]),
            Self.frame(.message, flags: .endStream, id: 1, [1, 2, 3]),
            Self.frame(.ping, id: 0, [1, 2, 3, 4, 5, 6, 7, 8]),
            Self.frame(.cancel, id: 7, []),
        ]
        let pairs = frames.map { (Self.encode(nil, [$0]), [WireEvent.frame($0)]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: pairs,
            decoderFactory: { WireDecoder(peerRole: .client, maxFrameLength: 1024, expectsPreface: false) }
        )
    }

    @Test("a preface split byte by byte is read once")
    func prefaceByteByByte() throws {
        var decoder = WireDecoder(peerRole: .client, maxFrameLength: 1024)
        var all = Self.encode(Self.clientPreface, [Self.frame(.cancel, id: 3, [])])
        var buffer = ByteBuffer()
        var decoded: [WireEvent] = []
        while let byte = all.readInteger(as: UInt8.self) {
            buffer.writeInteger(byte)
            while let event = try decoder.decode(buffer: &buffer) { decoded.append(event) }
        }
        #expect(decoded == [.preface(Self.clientPreface), .frame(Self.frame(.cancel, id: 3, []))])
    }

    @Test("many frames in one read come out in order")
    func manyFramesInOneRead() throws {
        let frames = (1...500).map { Self.frame(.message, flags: .endStream, id: UInt32($0), [UInt8($0 & 0xFF)]) }
        var decoder = WireDecoder(peerRole: .client, maxFrameLength: 1024)
        var buffer = Self.encode(Self.clientPreface, frames)
        var decoded: [WireEvent] = []
        while let event = try decoder.decode(buffer: &buffer) { decoded.append(event) }
        #expect(decoded == [.preface(Self.clientPreface)] + frames.map { .frame($0) })
        #expect(buffer.readableBytes == 0)
    }

    @Test("a length over the limit is refused from the header alone")
    func frameTooLarge() throws {
        var decoder = WireDecoder(peerRole: .client, maxFrameLength: 1024)
        var buffer = ByteBuffer()
        buffer.writePreface(Self.clientPreface)
        buffer.writeFrameHeader(length: 1025, type: .message, flags: [], callID: 1)
        _ = try decoder.decode(buffer: &buffer)
        #expect(throws: WireError(.frameTooLarge, "frame of 1025 bytes is over the limit of 1024")) {
            try decoder.decode(buffer: &buffer)
        }
    }

    @Test("a wrong preface fails at the first byte that differs")
    func wrongPreface() throws {
        var decoder = WireDecoder(peerRole: .client, maxFrameLength: 1024)
        var buffer = ByteBuffer(string: "G")
        #expect(throws: WireError.self) { try decoder.decode(buffer: &buffer) }

        var http = WireDecoder(peerRole: .client, maxFrameLength: 1024)
        var request = ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n")
        #expect(throws: WireError.self) { try http.decode(buffer: &request) }
    }

    @Test("a preface of another version or role is refused")
    func wrongVersionOrRole() throws {
        var decoder = WireDecoder(peerRole: .client, maxFrameLength: 1024)
        var buffer = ByteBuffer()
        buffer.writePreface(Preface(version: 2, role: .client, capabilities: [], maxMessageBytes: 0))
        #expect(throws: WireError(.unsupportedVersion, "protocol version 2 is not supported (speaks 1)")) {
            try decoder.decode(buffer: &buffer)
        }
        var serverSide = WireDecoder(peerRole: .client, maxFrameLength: 1024)
        var fromServer = ByteBuffer()
        fromServer.writePreface(Preface(role: .server, capabilities: [], maxMessageBytes: 0))
        #expect(throws: WireError.self) { try serverSide.decode(buffer: &fromServer) }
    }
}

@Suite("Call payloads")
struct CallPayloadTests {
    @Test("headers round-trip and have the documented layout")
    func headers() throws {
        let headers = CallHeaders(
            method: "/accord.v1.Echo/Unary",
            timeoutMilliseconds: 250,
            metadata: ["authorization": "Bearer abc", "trace-id": "t1"]
        )
        var buffer = ByteBuffer()
        headers.encode(into: &buffer)
        #expect(try CallHeaders.decode(from: buffer) == headers)
        #expect(buffer.getBytes(at: 0, length: 6) == [0, 0, 0, 250, 0, 21])
    }

    @Test("truncated or padded headers are protocol errors")
    func badHeaders() throws {
        var buffer = ByteBuffer()
        CallHeaders(method: "/a/b", metadata: ["k": "v"]).encode(into: &buffer)
        for cut in 0..<buffer.readableBytes {
            #expect(throws: WireError.self) { try CallHeaders.decode(from: buffer.getSlice(at: 0, length: cut)!) }
        }
        buffer.writeInteger(UInt8(0))
        #expect(throws: WireError.self) { try CallHeaders.decode(from: buffer) }
        var badKey = ByteBuffer()
        badKey.writeInteger(UInt32(0))
        badKey.writeInteger(UInt16(0))
        badKey.writeInteger(UInt16(1))
        badKey.writeInteger(UInt8(1))
        badKey.writeString("K")
        badKey.writeInteger(UInt16(0))
        #expect(throws: WireError(.protocolError, "metadata key is not lowercase ASCII")) {
            try CallHeaders.decode(from: badKey)
        }
    }

    @Test("trailers and goaway round-trip")
    func trailersAndGoAway() throws {
        let trailers = CallTrailers(
            code: .notFound,
            message: "agency ag_1 not found",
            details: [1, 2],
            metadata: ["x": "y"]
        )
        var buffer = ByteBuffer()
        trailers.encode(into: &buffer)
        #expect(try CallTrailers.decode(from: buffer) == trailers)

        let goAway = GoAway(lastCallID: 41, code: .noError, reason: "server is shutting down")
        var goAwayBuffer = ByteBuffer()
        goAway.encode(into: &goAwayBuffer)
        #expect(try GoAway.decode(from: goAwayBuffer) == goAway)
        #expect(StatusCode(wireValue: 99) == .unknown)
        #expect(StatusCode.allCases.count == 17)
    }
}
