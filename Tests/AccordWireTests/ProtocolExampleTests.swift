import AccordWire
import Foundation
import NIOCore
import Testing

/// The hex examples of docs/PROTOCOL.md (sections 10 and 11), read from the document and compared
/// with what the implementation writes.
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

    /// The hex blocks of sections 10 and 11 of docs/PROTOCOL.md, in order, each on one line.
    static func documentedBlocks() throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        let from = try #require(document.range(of: "## 10. Example: a unary call"))
        let to = try #require(document.range(of: "## 12."))
        let examples = document[from.upperBound..<to.lowerBound]
        // Fenced blocks alternate with prose: every odd piece between fences is a block.
        let pieces = examples.components(separatedBy: "```")
        return stride(from: 1, to: pieces.count, by: 2).map {
            pieces[$0].split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
    }

    @Test("the hex examples of the document are what the implementation writes")
    func examples() throws {
        var client = ByteBuffer()
        client.writePreface(Preface(role: .client, capabilities: .zlib, maxMessageBytes: 4 << 20))
        var server = ByteBuffer()
        server.writePreface(Preface(role: .server, capabilities: .zlib, maxMessageBytes: 4 << 20))
        var headers = ByteBuffer()
        CallHeaders(method: "/accord.v1.Echo/Unary", timeoutMilliseconds: 1000, metadata: ["trace-id": "t1"])
            .encode(into: &headers)
        let hi = ByteBuffer(bytes: [0x0A, 0x02, 0x68, 0x69])
        var ok = ByteBuffer()
        CallTrailers.ok.encode(into: &ok)
        var notFound = ByteBuffer()
        CallTrailers(code: .notFound, message: "agency ag_9 not found").encode(into: &notFound)
        let written = [
            Self.hex(client),
            Self.hex(server),
            Self.frame(.headers, [], 1, headers),
            Self.frame(.message, .endStream, 1, hi),
            Self.frame(.message, [], 1, hi),
            Self.frame(.trailers, [], 1, ok),
            Self.frame(.trailers, [], 2, notFound),
        ]
        let documented = try Self.documentedBlocks()
        #expect(documented.count == written.count, "\(documented.count) hex blocks in sections 10 and 11")
        for (index, (shown, made)) in zip(documented, written).enumerated() {
            #expect(shown == made, "block \(index + 1): the document shows \(shown), the implementation writes \(made)")
        }
    }
}

private func format2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
