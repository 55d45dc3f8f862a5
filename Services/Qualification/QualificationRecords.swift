/// Qualification's ids as users know them (`of_12`) and the row ids behind them.
enum QualificationRecords {
    static func officerID(_ rowid: Int64) -> String { "of_\(rowid)" }

    /// The row id behind an officer id this service made (0 for anything else).
    static func rowid(of id: String?) -> Int64 {
        guard let id, id.hasPrefix("of_") else { return 0 }
        return Int64(id.dropFirst(3)) ?? 0
    }
}
