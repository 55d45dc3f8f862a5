/// Qualification's ids as users know them (`of_12`); `RecordID` reads the row id back.
enum QualificationRecords {
    static func officerID(_ rowid: Int64) -> String { "of_\(rowid)" }
}
