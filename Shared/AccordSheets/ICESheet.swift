import AccordCSV
public import AccordMessages

/// Reads ICE's published 287(g) sheets (shared by intake's seeding and the `accord` CLI) (CSV): RFC 4180 quoting, a byte-order mark, CRLF or LF
/// line ends. Columns are found by their header names in any order and case: STATE, LAW
/// ENFORCEMENT AGENCY, TYPE, COUNTY, SUPPORT TYPE, and on participating sheets SIGNED, MOA and
/// ADDENDUM. Each row keeps its line number in the file (the header is line 1).
public enum ICESheet {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Trimmed, with runs of white space made one space.
    static func trimmed(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// Stores a column's value in the row field it belongs to; unknown columns are ignored.
    static func set(_ value: String, column: String, in row: inout SheetRow) {
        switch column {
        case "STATE": row.state = value
        case "LAW ENFORCEMENT AGENCY": row.agency = value
        case "TYPE": row.type = value
        case "COUNTY": row.county = value
        case "SUPPORT TYPE": row.supportType = value
        case "SIGNED": row.signed = value
        case "MOA": row.moa = value
        case "ADDENDUM": row.addendum = value
        default: break
        }
    }

    /// A row longer than this (in bytes, line breaks inside quotes included) is refused; ICE's
    /// rows are a few hundred bytes.
    public static let maxRowBytes = 4096

    /// What a sheet's file holds: its rows, and the lines that cannot be rows, with why.
    public struct Reading: Sendable {
        public var rows: [SheetRow]
        public var refused: [(line: UInt32, reason: String)]
    }

    /// The rows of a sheet; fails when the header lacks a column every sheet has.
    public static func rows(csv text: String) throws -> [SheetRow] {
        try self.read(csv: Array(text.utf8)).rows
    }

    /// The rows of a sheet's file, each row checked on its own: one that is not UTF-8, holds a
    /// NUL or is longer than ``maxRowBytes`` is refused with its line, and the others are read.
    /// Fails for an empty file, a header that cannot be read, or one that lacks a column every
    /// sheet has.
    public static func read(csv bytes: [UInt8]) throws -> Reading {
        var records = CSV.records(bytes: bytes, maxRecordBytes: Self.maxRowBytes)
        guard !records.isEmpty else { throw Failure(description: "the file is empty") }
        let first = records.removeFirst()
        if let problem = first.problem { throw Failure(description: "line 1, the header, \(problem)") }
        let header = first.fields.map { Self.trimmed($0).uppercased() }
        for required in ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"]
        where !header.contains(required) {
            throw Failure(description: "the header has no \(required) column")
        }
        var reading = Reading(rows: [], refused: [])
        for record in records {
            if let problem = record.problem {
                reading.refused.append((UInt32(record.line), "the row \(problem)"))
                continue
            }
            guard record.fields.contains(where: { !Self.trimmed($0).isEmpty }) else { continue }  // blank line
            var row = SheetRow(line: UInt32(record.line))
            for (index, name) in header.enumerated() where index < record.fields.count {
                self.set(record.fields[index], column: name, in: &row)
            }
            reading.rows.append(row)
        }
        return reading
    }
}
