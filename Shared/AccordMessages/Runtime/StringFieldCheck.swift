internal import CAccordProto

/// Checks every `string` field of encoded message bytes before protobuf-c unpacks them.
///
/// protobuf-c keeps a string as a C string, so one holding U+0000 would arrive cut at the NUL,
/// and Swift would repair bytes that are not UTF-8 with U+FFFD: either way the handler (and the
/// audit trail) would see other text than the caller sent. proto3 requires UTF-8; Accord also
/// refuses NUL. The walk follows the descriptor into nested messages; bytes that are not a valid
/// encoding are left for protobuf-c to refuse.
enum StringFieldCheck {
    /// What is wrong with one string field, and where: `name`, `officers[2].name`.
    struct Violation {
        let field: String
        let problem: Problem
    }

    enum Problem {
        case nul
        case notUTF8
    }

    /// Messages nest at most this deep here (Accord's schemas nest far less); deeper input is malformed.
    static let maxDepth = 32

    enum Outcome {
        /// Every string is UTF-8 without NUL, or the bytes are not a valid encoding (for protobuf-c to refuse).
        case fine
        case violation(Violation)
        /// Nested past ``maxDepth``.
        case tooDeep
    }

    static func check(
        _ bytes: UnsafeRawBufferPointer,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) -> Outcome {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .fine }
        var walk = Walk(bytes: UnsafeBufferPointer(start: base, count: bytes.count))
        return walk.message(0..<bytes.count, descriptor, depth: 0)
    }

    private struct Walk {
        let bytes: UnsafeBufferPointer<UInt8>

        mutating func message(
            _ range: Range<Int>,
            _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
            depth: Int
        ) -> Outcome {
            guard depth < StringFieldCheck.maxDepth else { return .tooDeep }
            var position = range.lowerBound
            var seen: [UInt32: Int] = [:]
            while position < range.upperBound {
                guard let tag = self.varint(&position, end: range.upperBound) else { return .fine }
                let number = UInt32(truncatingIfNeeded: tag >> 3)
                switch tag & 7 {
                case 0:
                    guard self.varint(&position, end: range.upperBound) != nil else { return .fine }
                case 1:
                    position += 8
                case 5:
                    position += 4
                case 2:
                    guard let length = self.varint(&position, end: range.upperBound), length <= UInt64(Int.max),
                        range.upperBound - position >= Int(length)
                    else { return .fine }
                    let value = position..<(position + Int(length))
                    position = value.upperBound
                    guard let field = protobuf_c_message_descriptor_get_field(descriptor, number) else { continue }
                    switch field.pointee.type {
                    case PROTOBUF_C_TYPE_STRING:
                        let index = Self.occurrence(field, &seen)
                        if let problem = Self.problem(self.bytes, value) {
                            return .violation(Violation(field: Self.name(field, index), problem: problem))
                        }
                    case PROTOBUF_C_TYPE_MESSAGE:
                        let index = Self.occurrence(field, &seen)
                        guard let nested = field.pointee.descriptor else { continue }
                        let inner = nested.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                        switch self.message(value, inner, depth: depth + 1) {
                        case .fine: break
                        case .violation(let violation):
                            let name = Self.name(field, index)
                            return .violation(
                                Violation(field: "\(name).\(violation.field)", problem: violation.problem)
                            )
                        case .tooDeep:
                            return .tooDeep
                        }
                    default:
                        break
                    }
                default:
                    return .fine  // groups and unknown wire types: malformed for protobuf-c
                }
            }
            return .fine
        }

        private func varint(_ position: inout Int, end: Int) -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < end, shift < 64 {
                let byte = self.bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }

        /// For a repeated field, which of its values this is (counted per message); nil otherwise.
        private static func occurrence(
            _ field: UnsafePointer<ProtobufCFieldDescriptor>,
            _ seen: inout [UInt32: Int]
        ) -> Int? {
            guard field.pointee.label == PROTOBUF_C_LABEL_REPEATED else { return nil }
            let index = seen[field.pointee.id, default: 0]
            seen[field.pointee.id] = index + 1
            return index
        }

        /// A field's name, with its index when it repeats (made only for a violation).
        private static func name(_ field: UnsafePointer<ProtobufCFieldDescriptor>, _ index: Int?) -> String {
            let name = String(cString: field.pointee.name)
            return index.map { "\(name)[\($0)]" } ?? name
        }

        /// Whether the bytes hold a NUL or are not UTF-8 (overlong forms, surrogates and code
        /// points past U+10FFFF are not).
        static func problem(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Problem? {
            var index = range.lowerBound
            let end = range.upperBound
            func continuation(_ offset: Int) -> Bool {
                index + offset < end && bytes[index + offset] & 0xC0 == 0x80
            }
            while index < end {
                let lead = bytes[index]
                if lead < 0x80 {
                    if lead == 0 { return .nul }
                    index += 1
                    continue
                }
                switch lead {
                case 0xC2...0xDF:
                    guard continuation(1) else { return .notUTF8 }
                    index += 2
                case 0xE0...0xEF:
                    guard continuation(1), continuation(2) else { return .notUTF8 }
                    let second = bytes[index + 1]
                    if lead == 0xE0 && second < 0xA0 { return .notUTF8 }  // overlong
                    if lead == 0xED && second >= 0xA0 { return .notUTF8 }  // a surrogate
                    index += 3
                case 0xF0...0xF4:
                    guard continuation(1), continuation(2), continuation(3) else { return .notUTF8 }
                    let second = bytes[index + 1]
                    if lead == 0xF0 && second < 0x90 { return .notUTF8 }  // overlong
                    if lead == 0xF4 && second >= 0x90 { return .notUTF8 }  // past U+10FFFF
                    index += 4
                default:
                    return .notUTF8
                }
            }
            return nil
        }
    }
}
