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

    /// The rows of a sheet; fails when the header lacks a column every sheet has.
    public static func rows(csv text: String) throws -> [SheetRow] {
        var records = CSV.records(text)
        guard !records.isEmpty else { throw Failure(description: "the file is empty") }
        let header = records.removeFirst().fields.map { Self.trimmed($0).uppercased() }
        for required in ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"]
        where !header.contains(required) {
            throw Failure(description: "the header has no \(required) column")
        }
        return records.compactMap { record in
            guard record.fields.contains(where: { !Self.trimmed($0).isEmpty }) else { return nil }  // blank line
            var row = SheetRow(line: UInt32(record.line))
            for (index, name) in header.enumerated() where index < record.fields.count {
                self.set(record.fields[index], column: name, in: &row)
            }
            return row
        }
    }
}
