import AccordWire
import NIOCore
import Testing

/// The hex examples of docs/PROTOCOL.md (sections 10 and 11), produced by the implementation.
@Suite("PROTOCOL.md examples")
struct ProtocolExampleTests {
    static func hex(_ buffer: ByteBuffer) -> String {
        buffer.readableBytesView.map { String(format2($0)) }.joined(separator: " ")
    }

    static func frame(_ type: FrameType, _ flags: FrameFlags, _ id: UInt32, _ payload: ByteBuffer) -> String {
        var buffer = ByteBuffer()
        buffer.writeFrame(Frame(type: type, flags: flags, callID: id, payload: payload))
        return hex(buffer)
    }

    @Test("prefaces, a unary call and an error encode as documented")
    func examples() {
        var preface = ByteBuffer()
        preface.writePreface(Preface(role: .client, capabilities: .zlib, maxMessageBytes: 4 << 20))
        #expect(Self.hex(preface) == "41 43 52 44 01 01 00 01 00 40 00 00")

        var headers = ByteBuffer()
        CallHeaders(method: "/accord.v1.Echo/Unary", timeoutMilliseconds: 1000, metadata: ["trace-id": "t1"])
            .encode(into: &headers)
        #expect(
            Self.frame(.headers, [], 1, headers)
                == "00 00 00 2a 01 00 00 00 00 01 00 00 03 e8 00 15 2f 61 63 63 6f 72 64 2e 76 31 2e 45 63 68 6f "
                + "2f 55 6e 61 72 79 00 01 08 74 72 61 63 65 2d 69 64 00 02 74 31"
        )
        let hi = ByteBuffer(bytes: [0x0A, 0x02, 0x68, 0x69])
        #expect(Self.frame(.message, .endStream, 1, hi) == "00 00 00 04 02 02 00 00 00 01 0a 02 68 69")
        #expect(Self.frame(.message, [], 1, hi) == "00 00 00 04 02 00 00 00 00 01 0a 02 68 69")

        var ok = ByteBuffer()
        CallTrailers.ok.encode(into: &ok)
        #expect(Self.frame(.trailers, [], 1, ok) == "00 00 00 09 03 00 00 00 00 01 00 00 00 00 00 00 00 00 00")

        var notFound = ByteBuffer()
        CallTrailers(code: .notFound, message: "agency ag_9 not found").encode(into: &notFound)
        #expect(
            Self.frame(.trailers, [], 2, notFound)
                == "00 00 00 1e 03 00 00 00 00 02 05 00 15 61 67 65 6e 63 79 20 61 67 5f 39 20 6e 6f 74 20 66 6f "
                + "75 6e 64 00 00 00 00 00 00"
        )
    }
}

private func format2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
