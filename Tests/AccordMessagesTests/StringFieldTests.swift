import Testing

@testable import AccordMessages

@Suite("Strings protobuf-c cannot hold are refused where the bytes are decoded")
struct StringFieldTests {
    /// `ErrorDetails` with `reason` set to `reason`, then one `FieldViolation` per entry of `fields`.
    static func errorDetails(reason: [UInt8], fields: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = [0x0A, UInt8(reason.count)] + reason
        for field in fields {
            let violation: [UInt8] = [0x0A, UInt8(field.count)] + field
            bytes += [0x12, UInt8(violation.count)] + violation
        }
        return bytes
    }

    static func invalid(_ field: String, _ problem: String) -> MessageDecodingError {
        .invalidString(messageType: "accord.v1.ErrorDetails", field: field, problem: problem)
    }

    static let nul = "contains a NUL character (U+0000), which is not allowed in a string"

    @Test("a NUL anywhere in a string names the field, nested and repeated ones by their path")
    func nul() throws {
        #expect(throws: Self.invalid("reason", Self.nul)) {
            try ErrorDetails(serializedBytes: Self.errorDetails(reason: Array("TX\0ZZ".utf8), fields: []))
        }
        #expect(throws: Self.invalid("field_violations[2].field", Self.nul)) {
            try ErrorDetails(
                serializedBytes: Self.errorDetails(
                    reason: [],
                    fields: [Array("a".utf8), Array("b".utf8), [0x62, 0x00]]
                )
            )
        }
        #expect(throws: Self.invalid("reason", Self.nul)) {
            try ErrorDetails(serializedBytes: Self.errorDetails(reason: [0x00], fields: []))
        }
    }

    @Test("bytes that are not UTF-8 are refused: stray continuations, overlong forms, surrogates, past U+10FFFF")
    func notUTF8() throws {
        let wrong: [[UInt8]] = [
            [0xFF], [0x80], [0x61, 0xC3], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82],
            Array("binary".utf8) + [0xFE],
        ]
        for bytes in wrong {
            #expect(throws: Self.invalid("reason", "is not valid UTF-8"), "\(bytes)") {
                try ErrorDetails(serializedBytes: Self.errorDetails(reason: bytes, fields: []))
            }
        }
    }

    @Test("valid UTF-8 of every length decodes as sent")
    func validUTF8() throws {
        for text in ["", "TX", "Doña Ana County", "Société", "€", "日本", "\u{10FFFF}", "🇺🇸 287(g)", "\u{D7FF}\u{E000}"] {
            let decoded = try ErrorDetails(
                serializedBytes: Self.errorDetails(reason: Array(text.utf8), fields: [Array(text.utf8)])
            )
            #expect(decoded.reason == text)
            #expect(decoded.fieldViolations.first?.field == text)
        }
    }

    @Test("a request with a NUL is refused, whatever the service: ListAgencies with state TX\\0ZZ")
    func request() throws {
        let bytes: [UInt8] = [0x0A, 0x05] + Array("TX\0ZZ".utf8)
        #expect(
            throws: MessageDecodingError.invalidString(
                messageType: "accord.v1.ListAgenciesRequest",
                field: "state",
                problem: Self.nul
            )
        ) { try ListAgenciesRequest(serializedBytes: bytes) }
        #expect(try ListAgenciesRequest(serializedBytes: [0x0A, 0x02] + Array("TX".utf8)).state == "TX")
    }

    @Test("bytes fields may hold anything; unknown fields are not checked")
    func bytesAndUnknown() throws {
        let echo = try EchoRequest(serializedBytes: try EchoRequest(payload: [0x00, 0xFF, 0xC0]).serializedBytes())
        #expect(echo.payload == [0x00, 0xFF, 0xC0])
        // Field 15, length-delimited, unknown to ErrorDetails.
        let unknown: [UInt8] = [0x7A, 0x02, 0x00, 0xFF]
        #expect(try ErrorDetails(serializedBytes: unknown).reason == nil)
    }
}
