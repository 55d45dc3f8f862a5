import AccordMessages
import AccordRPC
import AccordWire
import NIOCore
import Testing

@Suite("RPC runtime over loopback", .timeLimit(.minutes(2)))
struct RuntimeTests {
    @Test("unary echo, server streaming and health")
    func basics() async throws {
        try await withServer { server in
            let client = RPCClient(endpoints: [server.endpoint])
            let payload = Array("hello".utf8)
            let echo = try await client.unary(EchoMethods.unary, EchoRequest(payload: payload))
            #expect(echo.payload == payload)

            var sequences: [UInt32] = []
            for try await response in try await client.serverStreaming(
                EchoMethods.stream,
                EchoRequest(payload: [1], count: 5)
            ) {
                sequences.append(response.sequence ?? 99)
            }
            #expect(sequences == [0, 1, 2, 3, 4])

            let health = try await client.unary(HealthMethods.check, HealthCheckRequest())
            #expect(health.status == .serving)
            #expect(health.services.contains("accord.v1.Echo"))
            let unknown = try await client.unary(HealthMethods.check, HealthCheckRequest(service: "accord.v1.Nope"))
            #expect(unknown.status == .unknownService)
            await client.close()
        }
    }

    @Test("a failing handler's status, message and details reach the caller")
    func errorStatus() async throws {
        try await withServer { server in
            let client = RPCClient(endpoints: [server.endpoint])
            await #expect(throws: RPCError(.notFound, "agency 7 not found")) {
                try await client.unary(EchoMethods.unary, EchoRequest(failCode: 5, failMessage: "agency 7 not found"))
            }
            do {
                _ = try await client.unary(EchoMethods.unary, EchoRequest(delayMs: 999_999))
                Issue.record("expected INVALID_ARGUMENT")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.errorDetails?.fieldViolations.first?.field == "delay_ms")
            }
            await #expect(throws: RPCError(.unimplemented, "method /test.Probe/Slow is not implemented by this server"))
            {
                try await client.unary(TestMethods.slow, EchoRequest())
            }
            await client.close()
        }
    }

    @Test("1,000 concurrent calls on one connection all complete")
    func thousandConcurrentCalls() async throws {
        try await withServer { server in
            let connection = try await ClientConnection.connect(to: server.endpoint)
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        let payload = Array("call \(index)".utf8)
                        let request = ByteBuffer(
                            bytes: try EchoRequest(payload: payload, delayMs: 20).serializedBytes()
                        )
                        let response = try await connection.unary(
                            path: EchoMethods.unary.path,
                            request: request,
                            options: CallOptions(timeout: .seconds(60))
                        )
                        return try EchoResponse(serializedBytes: Array(buffer: response)).payload == payload
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.count == 1000)
            #expect(results.allSatisfy { $0 })
            await connection.close()
        }
    }

    @Test("a slow handler does not delay other calls on the same connection")
    func noHeadOfLineBlocking() async throws {
        let probe = Probe()
        try await withServer(register: probe.register) { server in
            let client = RPCClient(endpoints: [server.endpoint])
            let slow = Task { try await client.unary(TestMethods.slow, EchoRequest(delayMs: 8_000)) }
            #expect(await probe.eventually { probe.started.load(ordering: .relaxed) == 1 })
            for _ in 0..<50 {
                _ = try await client.unary(EchoMethods.unary, EchoRequest(payload: [1]))
            }
            #expect(probe.finished.load(ordering: .relaxed) == 0, "fast calls finished while the slow one runs")
            _ = try await slow.value
            #expect(probe.finished.load(ordering: .relaxed) == 1)
            await client.close()
        }
    }

    @Test("a deadline that passes during the handler gives DEADLINE_EXCEEDED and cancels the handler")
    func deadlineDuringHandler() async throws {
        let probe = Probe()
        try await withServer(register: probe.register) { server in
            let client = RPCClient(endpoints: [server.endpoint])
            await #expect(throws: RPCError.self) {
                try await client.unary(
                    TestMethods.slow,
                    EchoRequest(delayMs: 10_000),
                    options: CallOptions(timeout: .milliseconds(100))
                )
            }
            #expect(await probe.eventually { probe.cancelled.load(ordering: .relaxed) == 1 })
            await client.close()

            // The server enforces the deadline itself: a raw caller that never cancels still gets
            // DEADLINE_EXCEEDED from the server.
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            try await raw.send(.headers(TestMethods.slow.path, id: 1, timeoutMilliseconds: 100))
            try await raw.send(.message(EchoRequest(delayMs: 10_000), id: 1))
            let events = try await raw.read { $0.trailers != nil }
            #expect(events.last?.trailers?.trailers.code == .deadlineExceeded)
            // Every handler that started was cancelled, none ran to its end. (On a loaded machine
            // the message may arrive after the deadline, and then the handler never starts.)
            #expect(
                await probe.eventually {
                    probe.cancelled.load(ordering: .relaxed) == probe.started.load(ordering: .relaxed)
                }
            )
            #expect(probe.started.load(ordering: .relaxed) >= 1 && probe.finished.load(ordering: .relaxed) == 0)
        }
    }

    @Test("a deadline that passes before the request arrives gives DEADLINE_EXCEEDED")
    func deadlineBeforeHandler() async throws {
        try await withServer { server in
            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface()
            try await raw.send(.headers(EchoMethods.unary.path, id: 1, timeoutMilliseconds: 50))
            let events = try await raw.read { $0.trailers != nil }
            #expect(events.last?.trailers?.trailers.code == .deadlineExceeded)
        }
    }

    @Test("cancelling the caller's task stops the handler")
    func clientCancel() async throws {
        let probe = Probe()
        try await withServer(register: probe.register) { server in
            let client = RPCClient(endpoints: [server.endpoint])
            let call = Task { try await client.unary(TestMethods.slow, EchoRequest(delayMs: 10_000)) }
            #expect(await probe.eventually { probe.started.load(ordering: .relaxed) == 1 })
            call.cancel()
            await #expect(throws: RPCError(.cancelled, "the call was cancelled by the client")) { try await call.value }
            #expect(await probe.eventually { probe.cancelled.load(ordering: .relaxed) == 1 })
            await client.close()
        }
    }

    @Test("graceful shutdown finishes in-flight calls and refuses new ones with UNAVAILABLE")
    func gracefulShutdown() async throws {
        let probe = Probe()
        let server = try await TestServer.start(register: probe.register)
        let connection = try await ClientConnection.connect(to: server.endpoint)
        let request = ByteBuffer(bytes: try EchoRequest(payload: [7], delayMs: 500).serializedBytes())
        let inFlight = (0..<10).map { _ in
            Task { try await connection.unary(path: TestMethods.slow.path, request: request, options: CallOptions()) }
        }
        #expect(await probe.eventually { probe.started.load(ordering: .relaxed) == 10 })
        server.server.beginGracefulShutdown()
        #expect(await probe.eventually { !connection.isUsable })
        await #expect(throws: RPCError.self) {
            try await connection.unary(path: EchoMethods.unary.path, request: ByteBuffer(), options: CallOptions())
        }
        for call in inFlight {
            let response = try await call.value
            #expect(try EchoResponse(serializedBytes: Array(buffer: response)).payload == [7])
        }
        _ = await server.task.result
        #expect(probe.finished.load(ordering: .relaxed) == 10)
        let client = RPCClient(endpoints: [server.endpoint])
        await #expect(throws: RPCError.self) { try await client.unary(EchoMethods.unary, EchoRequest()) }
    }

    @Test("a call on a draining connection is refused with UNAVAILABLE")
    func refusedWhileDraining() async throws {
        let probe = Probe()
        let server = try await TestServer.start(register: probe.register)
        let raw = try await RawConnection(server.endpoint)
        try await raw.sendPreface()
        try await raw.send(.headers(TestMethods.slow.path, id: 1))
        // Still running when call 2 arrives, even on a loaded machine: the connection closes
        // once its last call is done.
        try await raw.send(.message(EchoRequest(delayMs: 3000), id: 1))
        #expect(await probe.eventually { probe.started.load(ordering: .relaxed) == 1 })
        server.server.beginGracefulShutdown()
        let untilGoAway = try await raw.read { $0.goAway != nil }
        #expect(untilGoAway.last?.goAway?.lastCallID == 1)
        try await raw.send(.headers(EchoMethods.unary.path, id: 2))
        try await raw.send(.message(EchoRequest(), id: 2))
        let rest = try await raw.read { $0.trailers?.id == 1 }
        let trailers = rest.compactMap(\.trailers)
        #expect(trailers.first { $0.id == 2 }?.trailers.code == .unavailable)
        #expect(trailers.first { $0.id == 1 }?.trailers.code == .ok)
        _ = await server.task.result
    }

    @Test("the client reconnects after the server restarts on the same port")
    func reconnect() async throws {
        let first = try await TestServer.start()
        let port = first.endpoint.port
        var configuration = ClientConfiguration()
        configuration.backoff.initial = .milliseconds(20)
        let client = RPCClient(endpoints: [first.endpoint], configuration: configuration)
        #expect(try await client.unary(EchoMethods.unary, EchoRequest(payload: [1])).payload == [1])
        await first.stop()
        await #expect(throws: RPCError.self) { try await client.unary(EchoMethods.unary, EchoRequest(payload: [2])) }
        let second = try await TestServer.start(configuration: ServerConfiguration(port: port))
        var answered = false
        for _ in 0..<100 where !answered {
            answered = (try? await client.unary(EchoMethods.unary, EchoRequest(payload: [3])).payload) == [3]
            if !answered { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        #expect(answered)
        await client.close()
        await second.stop()
    }

    @Test("UNAVAILABLE is retried for idempotent calls only, within the attempt limit")
    func retries() async throws {
        let probe = Probe()
        try await withServer(register: probe.register) { server in
            let client = RPCClient(endpoints: [server.endpoint])
            await #expect(throws: RPCError(.unavailable, "probe is unavailable")) {
                try await client.unary(TestMethods.failOnce, EchoRequest())
            }
            #expect(probe.calls.load(ordering: .relaxed) == 1, "a non-idempotent call ran more than once")

            await #expect(throws: RPCError(.unavailable, "probe is unavailable")) {
                try await client.unary(TestMethods.failOnceIdempotent, EchoRequest())
            }
            #expect(probe.calls.load(ordering: .relaxed) == 1 + 3)

            await #expect(throws: RPCError.self) {
                try await client.unary(
                    TestMethods.failOnce,
                    EchoRequest(),
                    options: CallOptions(metadata: [MetadataKey.idempotencyKey: "k1"])
                )
            }
            #expect(probe.calls.load(ordering: .relaxed) == 4 + 3)
            await client.close()
        }
    }

    @Test("the retry budget stops retries once spent")
    func retryBudget() async throws {
        let probe = Probe()
        try await withServer(register: probe.register) { server in
            var configuration = ClientConfiguration()
            configuration.retry = .init(maxAttempts: 3, maxTokens: 4, tokensPerSuccess: 0.1)
            let client = RPCClient(endpoints: [server.endpoint], configuration: configuration)
            for _ in 0..<5 {
                _ = try? await client.unary(TestMethods.failOnceIdempotent, EchoRequest())
            }
            // 5 first attempts + 4 retries from the budget of 4 tokens.
            #expect(probe.calls.load(ordering: .relaxed) == 9)
            await client.close()
        }
    }

    @Test("large messages are compressed both ways and arrive intact")
    func compression() async throws {
        try await withServer { server in
            let client = RPCClient(endpoints: [server.endpoint])
            let payload = (0..<200_000).map { UInt8($0 % 7) }
            #expect(try await client.unary(EchoMethods.unary, EchoRequest(payload: payload)).payload == payload)

            let raw = try await RawConnection(server.endpoint)
            try await raw.sendPreface(capabilities: .zlib)
            try await raw.send(.headers(EchoMethods.unary.path, id: 1))
            try await raw.send(.message(EchoRequest(payload: payload), id: 1))
            let events = try await raw.read { $0.trailers != nil }
            let message = events.compactMap { event -> Frame? in
                if case .frame(let frame) = event, frame.type == .message { return frame }
                return nil
            }.first
            #expect(message?.flags.contains(.compressed) == true)
            #expect((message?.payload.readableBytes ?? .max) < 10_000)
            await client.close()
        }
    }
}
