import Testing

@testable import AccordMessages

@Suite("Message encoding and decoding through protobuf-c")
struct MessageCodecTests {
    @Test("every generated field index matches its protobuf-c descriptor")
    func generatedFieldsMatchDescriptors() {
        #expect(MessageRegistry.all.count >= 7)
        for type in MessageRegistry.all {
            let fields = ProtoCodec.descriptorFields(type)
            #expect(fields.map(\.number) == type.fieldNumbers, "\(type.protoName)")
            #expect(fields.map(\.name) == type.fieldNames, "\(type.protoName)")
        }
    }

    @Test("scalars, strings, bytes, enums, nested and repeated fields round-trip")
    func roundTrip() throws {
        let details = ErrorDetails(
            reason: "DUPLICATE_AGENCY",
            fieldViolations: [
                FieldViolation(field: "name", description: "already registered"),
                FieldViolation(field: "ori", description: nil),
            ],
            retryAfterMs: -1_500,
            metadata: [KeyValue(key: "agency_id", value: "ag_ä€😀")]
        )
        let bytes = try details.serializedBytes()
        #expect(try ErrorDetails(serializedBytes: bytes) == details)

        let health = HealthCheckResponse(
            status: .notServing,
            server: "accord-test",
            services: ["accord.v1.Echo", "", "accord.v1.Health"],
            uptimeMs: Int64.max
        )
        #expect(try HealthCheckResponse(serializedBytes: health.serializedBytes()) == health)

        let echo = EchoRequest(payload: Array(0...255), delayMs: 0, failCode: UInt32.max, failMessage: "")
        #expect(try EchoRequest(serializedBytes: echo.serializedBytes()) == echo)
    }

    @Test("absent fields stay absent, present empty fields stay present")
    func presence() throws {
        #expect(try EchoRequest().serializedBytes() == [])
        let decoded = try EchoRequest(serializedBytes: [])
        #expect(decoded.payload == nil && decoded.delayMs == nil && decoded.failMessage == nil)

        let empty = EchoRequest(payload: [], delayMs: 0, failMessage: "")
        let roundTripped = try EchoRequest(serializedBytes: empty.serializedBytes())
        #expect(roundTripped.payload == [])
        #expect(roundTripped.delayMs == 0)
        #expect(roundTripped.failMessage == "")
    }

    @Test("a message with no fields encodes to nothing and decodes, ignoring unknown fields")
    func emptyMessage() throws {
        #expect(try GetRulesRequest().serializedBytes() == [])
        #expect(try GetRulesRequest(serializedBytes: []) == GetRulesRequest())
        #expect(try GetRulesRequest(serializedBytes: [0x08, 0x01]) == GetRulesRequest())
    }

    @Test("the wire format is standard protobuf")
    func wireFormat() throws {
        // field 1 (bytes) = "hi", field 2 (varint) = 300
        let bytes = try EchoRequest(payload: Array("hi".utf8), delayMs: 300).serializedBytes()
        #expect(bytes == [0x0A, 0x02, 0x68, 0x69, 0x10, 0xAC, 0x02])
    }

    @Test("enum values the schema does not know decode as unrecognized and round-trip")
    func unknownEnumValue() throws {
        // field 1 (varint) = 42
        let decoded = try HealthCheckResponse(serializedBytes: [0x08, 42])
        #expect(decoded.status == .unrecognized(42))
        #expect(decoded.status?.isKnownAndSpecified == false)
        #expect(try decoded.serializedBytes() == [0x08, 42])
        #expect(ServingStatus.serving.protoName == "SERVING_STATUS_SERVING")
        #expect(ServingStatus(rawValue: 0) == .unspecified)
    }

    @Test("a string holding NUL cannot be encoded")
    func nulInString() {
        #expect(throws: MessageEncodingError.stringContainsNUL(messageType: "accord.v1.KeyValue", field: "value")) {
            try KeyValue(key: "k", value: "a\u{0}b").serializedBytes()
        }
    }
}

@Suite("Decoding untrusted bytes")
struct MessageDecodingLimitTests {
    @Test("input over the size limit is refused before decoding")
    func overSizeLimit() {
        let limits = DecodeLimits(maxMessageBytes: 16, maxAllocationBytes: 1 << 20)
        #expect(throws: MessageDecodingError.tooLarge(size: 17, limit: 16)) {
            try EchoRequest(serializedBytes: [UInt8](repeating: 0, count: 17), limits: limits)
        }
    }

    @Test("allocations past the budget fail the decode instead of growing without bound")
    func allocationBudget() throws {
        // 10,000 empty FieldViolation entries: 2 bytes each on the wire, a whole C struct each in memory.
        let bytes = [UInt8]([0x12, 0x00].repeated(10_000))
        let limits = DecodeLimits(maxMessageBytes: 1 << 20, maxAllocationBytes: 64 * 1024)
        #expect(throws: MessageDecodingError.allocationLimitExceeded(limit: 64 * 1024)) {
            try ErrorDetails(serializedBytes: bytes, limits: limits)
        }
        #expect(try ErrorDetails(serializedBytes: bytes).fieldViolations.count == 10_000)
    }

    @Test("truncated input is malformed")
    func truncated() throws {
        let bytes = try EchoRequest(payload: Array(repeating: 7, count: 100), failMessage: "boom").serializedBytes()
        for cut in 1..<bytes.count {
            let prefix = Array(bytes[..<cut])
            // A prefix that ends exactly between fields is a valid, shorter message.
            if let decoded = try? EchoRequest(serializedBytes: prefix) {
                #expect(decoded.payload?.count == 100)
            }
        }
        #expect(throws: MessageDecodingError.malformed(messageType: "accord.v1.EchoRequest")) {
            try EchoRequest(serializedBytes: Array(bytes[..<50]))
        }
    }

    @Test("deeply nested length-delimited bytes do not crash the decoder")
    func deeplyNested() {
        // field 2 (FieldViolation) nested in itself 100,000 times: only the first level is a
        // FieldViolation; the rest are unknown fields inside it, kept as bytes.
        var bytes: [UInt8] = []
        for _ in 0..<100_000 {
            bytes = [0x12] + varint(bytes.count) + bytes
            if bytes.count > 1 << 20 { break }
        }
        let result = Result { try ErrorDetails(serializedBytes: bytes) }
        switch result {
        case .success(let details): #expect(details.fieldViolations.count == 1)
        case .failure(let error): #expect(error is MessageDecodingError)
        }
    }

    @Test("random bytes never crash the decoder", arguments: 0..<4)
    func randomBytes(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        var decodedCount = 0
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 64)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            for decode in [
                { _ = try ErrorDetails(serializedBytes: bytes) },
                { _ = try HealthCheckResponse(serializedBytes: bytes) },
                { _ = try EchoRequest(serializedBytes: bytes) },
            ] as [() throws -> Void] {
                do {
                    try decode()
                    decodedCount += 1
                } catch {
                    #expect(error is MessageDecodingError)
                }
            }
        }
        #expect(decodedCount > 0)
    }
}

private func varint(_ value: Int) -> [UInt8] {
    var value = UInt64(value)
    var out: [UInt8] = []
    repeat {
        var byte = UInt8(value & 0x7F)
        value >>= 7
        if value != 0 { byte |= 0x80 }
        out.append(byte)
    } while value != 0
    return out
}

extension Array {
    fileprivate func repeated(_ times: Int) -> [Element] {
        (0..<times).flatMap { _ in self }
    }
}

/// A small deterministic generator so that a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
