/// RFC 4180 CSV: quoted fields (with doubled quotes and line breaks inside), commas, CRLF or LF
/// line ends, a leading byte-order mark. Each record keeps the line it starts on (from 1).
///
/// Read from bytes, each record is checked as it ends: a record whose bytes are not UTF-8, that
/// holds a NUL (which no string sent to a service may hold), or that is longer than the limit
/// comes with its problem instead of its fields, and the records after it are read as usual.
public enum CSV {
    /// One record: its fields, or why they cannot be taken.
    public struct Record: Sendable, Equatable {
        /// The line it starts on (from 1).
        public let line: Int
        /// Empty when ``problem`` is set.
        public let fields: [String]
        /// What is wrong with the record's bytes, for people: "is not valid UTF-8 (byte 0xFF)".
        public let problem: String?
    }

    /// CSV records with the line each starts on.
    public static func records(_ text: String) -> [(line: Int, fields: [String])] {
        self.records(bytes: Array(text.utf8)).map { ($0.line, $0.fields) }
    }

    /// CSV records read from a file's bytes; a record longer than `maxRecordBytes` is refused.
    public static func records(bytes: [UInt8], maxRecordBytes: Int = .max) -> [Record] {
        var records: [Record] = []
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var quoted = false
        var line = 1
        var recordLine = 1
        var recordBytes = 0
        var index = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        func endRecord() {
            fields.append(field)
            records.append(Self.record(line: recordLine, fields, bytes: recordBytes, limit: maxRecordBytes))
            fields = []
            field = []
            recordBytes = 0
        }
        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            index += 1
            recordBytes += 1
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if next == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                        recordBytes += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): quoted = true
            case UInt8(ascii: ","):
                fields.append(field)
                field = []
            case UInt8(ascii: "\r"):
                if next == UInt8(ascii: "\n") { index += 1 }
                endRecord()
                line += 1
                recordLine = line
            case UInt8(ascii: "\n"):
                endRecord()
                line += 1
                recordLine = line
            default: field.append(byte)
            }
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }

    private static func record(line: Int, _ fields: [[UInt8]], bytes: Int, limit: Int) -> Record {
        if bytes > limit {
            return Record(line: line, fields: [], problem: "is longer than the limit of \(limit) bytes")
        }
        var strings: [String] = []
        strings.reserveCapacity(fields.count)
        for field in fields {
            if let problem = Self.problem(field) { return Record(line: line, fields: [], problem: problem) }
            strings.append(String(decoding: field, as: UTF8.self))
        }
        return Record(line: line, fields: strings, problem: nil)
    }

    /// Why `bytes` cannot be text sent to a service: a NUL, or not UTF-8; nil when they can.
    public static func problem(_ bytes: [UInt8]) -> String? {
        if bytes.contains(0) { return "holds a NUL character (U+0000)" }
        var utf8 = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&utf8) {
            case .scalarValue: continue
            case .emptyInput: return nil
            case .error:
                return "is not valid UTF-8"
            }
        }
    }
}
