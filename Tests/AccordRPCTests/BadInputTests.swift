import AccordMessages
import AccordRPC
import AccordWire
import CAccordZlib
import NIOCore
import Testing

@Suite("Bad input: each gets its documented answer and the server keeps serving", .timeLimit(.minutes(2)))
struct BadInputTests {
    /// After each bad connection, a normal call on a new connection must still work.
    static func stillServes(_ server: TestServer) async throws {
        let client = RPCClient(endpoints: [server.endpoint])
        #expect(try await client.unary(EchoMethods.unary, EchoRequest(payload: [42])).payload == [42])
        await client.close()
    }

    static func goAwayCode(_ events: [WireEvent]) -> GoAwayCode? {
        events.compactMap(\.goAway).last?.code
    }

    @Test("a wrong preface closes the connection with PROTOCOL_ERROR")
    func wrongPreface() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.send(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
            let (events, closed) = try await raw.readUntilClose()
            #expect(closed)
            #expect(Self.goAwayCode(events) == .protocolError)
            try await Self.stillServes(server)
        }
    }

    @Test("an unknown frame type closes the connection with PROTOCOL_ERROR")
    func unknownFrameType() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            try await raw.send(.frame(FrameType(rawValue: 0x7F), id: 1))
            let (events, closed) = try await raw.readUntilClose()
            #expect(closed)
            #expect(Self.goAwayCode(events) == .protocolError)
            try await Self.stillServes(server)
        }
    }

    @Test("a length over the limit closes the connection before the body is sent")
    func frameTooLarge() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            var header = ByteBuffer()
            header.writeFrameHeader(length: 64 << 20, type: .message, flags: .endStream, callID: 1)
            try await raw.send(header)
            let (events, closed) = try await raw.readUntilClose()
            #expect(closed)
            #expect(Self.goAwayCode(events) == .frameTooLarge)
            try await Self.stillServes(server)
        }
    }

    @Test("a compressed message without negotiated compression is INTERNAL")
    func compressedWithoutNegotiation() async throws {
        var configuration = ServerConfiguration()
        configuration.compression.enabled = false
        try await withServer(configuration: configuration) { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            try await raw.send(.headers(EchoMethods.unary.path, id: 1))
            try await raw.send(
                .frame(.message, flags: [.compressed, .endStream], id: 1, ByteBuffer(bytes: [0x78, 0x9C, 3, 0]))
            )
            let events = try await raw.read { $0.trailers != nil }
            #expect(events.last?.trailers?.trailers.code == .internal)
            try await Self.stillServes(server)
        }
    }

    @Test("a zlib bomb (1 GiB of zeros) is stopped at the message limit: RESOURCE_EXHAUSTED")
    func zlibBomb() async throws {
        let bomb = deflateZeros(count: 1 << 30)
        #expect(bomb.readableBytes < 2 << 20)
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            try await raw.send(.headers(EchoMethods.unary.path, id: 1))
            try await raw.send(.frame(.message, flags: [.compressed, .endStream], id: 1, bomb))
            let events = try await raw.read { $0.trailers != nil }
            let trailers = events.last?.trailers?.trailers
            #expect(trailers?.code == .resourceExhausted)
            #expect(trailers?.message.contains("limit") == true)
            try await Self.stillServes(server)
        }
    }

    @Test("corrupt compressed bytes are INTERNAL")
    func corruptCompressed() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            try await raw.send(.headers(EchoMethods.unary.path, id: 1))
            try await raw.send(
                .frame(.message, flags: [.compressed, .endStream], id: 1, ByteBuffer(bytes: [1, 2, 3, 4, 5]))
            )
            let events = try await raw.read { $0.trailers != nil }
            #expect(events.last?.trailers?.trailers.code == .internal)
        }
    }

    @Test("truncated and random protobuf bytes are INVALID_ARGUMENT")
    func badProtobuf() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            let valid = try EchoRequest(payload: Array(repeating: 1, count: 50)).serializedBytes()
            try await raw.send(.headers(EchoMethods.unary.path, id: 1))
            try await raw.send(.frame(.message, flags: .endStream, id: 1, ByteBuffer(bytes: valid.prefix(20))))
            try await raw.send(.headers(EchoMethods.unary.path, id: 2))
            try await raw.send(
                .frame(.message, flags: .endStream, id: 2, ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))
            )
            let events = try await raw.read { $0.trailers?.id == 2 }
            let codes = events.compactMap(\.trailers).map(\.trailers.code)
            #expect(codes == [.invalidArgument, .invalidArgument])
            try await Self.stillServes(server)
        }
    }

    @Test("metadata over its limit is RESOURCE_EXHAUSTED")
    func metadataOverLimit() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            var metadata = Metadata()
            for index in 0..<10 { metadata.add("k\(index)", String(repeating: "v", count: 2000)) }
            try await raw.send(.headers(EchoMethods.unary.path, id: 1, metadata: metadata))
            try await raw.send(.message(EchoRequest(), id: 1))
            try await raw.send(.headers(EchoMethods.unary.path, id: 2))
            try await raw.send(.message(EchoRequest(payload: [5]), id: 2))
            let events = try await raw.read { $0.trailers?.id == 2 }
            let trailers = events.compactMap(\.trailers)
            #expect(trailers.first { $0.id == 1 }?.trailers.code == .resourceExhausted)
            #expect(trailers.first { $0.id == 2 }?.trailers.code == .ok)
        }
    }

    @Test("a reused call id closes the connection with PROTOCOL_ERROR")
    func reusedCallID() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            try await raw.send(.headers(EchoMethods.unary.path, id: 5))
            try await raw.send(.message(EchoRequest(), id: 5))
            try await raw.send(.headers(EchoMethods.unary.path, id: 5))
            let (events, closed) = try await raw.readUntilClose()
            #expect(closed)
            #expect(Self.goAwayCode(events) == .protocolError)
            try await Self.stillServes(server)
        }
    }

    @Test("too many concurrent calls on one connection: the excess is RESOURCE_EXHAUSTED")
    func tooManyCalls() async throws {
        var configuration = ServerConfiguration()
        configuration.limits.maxConcurrentCallsPerConnection = 2
        try await withServer(configuration: configuration) { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            for id in 1...3 as ClosedRange<UInt32> {
                try await raw.send(.headers(EchoMethods.unary.path, id: id))
                // Long enough that the first two are still running when the third arrives, even
                // on a loaded machine.
                try await raw.send(.message(EchoRequest(delayMs: 2000), id: id))
            }
            let events = try await raw.read { $0.trailers?.id == 3 }
            #expect(events.compactMap(\.trailers).first?.trailers.code == .resourceExhausted)
        }
    }

    @Test("a client that connects and sends nothing is closed after the preface timeout")
    func silentClient() async throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.preface = .milliseconds(200)
        try await withServer(configuration: configuration) { server in
            let raw = try await RawConnection(server.endpoint)
            let (events, closed) = try await raw.readUntilClose(seconds: 5)
            #expect(closed)
            // The server's preface, then GOAWAY PREFACE_TIMEOUT.
            #expect(events.count == 2 && events.last?.goAway?.code == .prefaceTimeout, "\(events)")
            try await Self.stillServes(server)
        }
    }

    @Test("a client that disconnects mid-call has its handler cancelled")
    func disconnectMidCall() async throws {
        let probe = Probe()
        try await withServer(register: probe.register) { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            try await raw.send(.headers(TestMethods.slow.path, id: 1))
            try await raw.send(.message(EchoRequest(delayMs: 10_000), id: 1))
            #expect(await probe.eventually { probe.started.load(ordering: .relaxed) == 1 })
            try await raw.channel.close()
            #expect(await probe.eventually { probe.cancelled.load(ordering: .relaxed) == 1 })
            try await Self.stillServes(server)
        }
    }

    @Test("bytes split one by one still make a call")
    func fragmented() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            var all = ByteBuffer()
            all.writePreface(Preface(role: .client, capabilities: [], maxMessageBytes: 1 << 20))
            var headers = ByteBuffer.headers(EchoMethods.unary.path, id: 1)
            var message = try ByteBuffer.message(EchoRequest(payload: [9, 9]), id: 1)
            all.writeBuffer(&headers)
            all.writeBuffer(&message)
            while let byte = all.readInteger(as: UInt8.self) {
                try await raw.send(ByteBuffer(bytes: [byte]))
            }
            let events = try await raw.read { $0.trailers != nil }
            #expect(events.last?.trailers?.trailers.code == .ok)
        }
    }
}

/// `count` zero bytes, zlib-compressed in chunks (never held uncompressed).
private func deflateZeros(count: Int) -> ByteBuffer {
    var stream = z_stream()
    precondition(accord_deflate_init(&stream, 9) == Z_OK)
    defer { deflateEnd(&stream) }
    let chunk = [UInt8](repeating: 0, count: 1 << 20)
    var output = [UInt8](repeating: 0, count: 64 << 10)
    var result = ByteBuffer()
    var remaining = count
    repeat {
        let take = min(remaining, chunk.count)
        remaining -= take
        chunk.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(take)
            repeat {
                output.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    _ = deflate(&stream, remaining == 0 ? Z_FINISH : Z_NO_FLUSH)
                    result.writeBytes(UnsafeBufferPointer(rebasing: out[0..<(out.count - Int(stream.avail_out))]))
                }
            } while stream.avail_out == 0
        }
    } while remaining > 0
    return result
}
