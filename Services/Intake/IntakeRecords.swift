/// Intake's ids as users know them (`ag_12`, `rq_7`, `en_3`) and the row ids behind them.
enum IntakeRecords {
    static func agencyID(_ rowid: Int64) -> String { "ag_\(rowid)" }
    static func requestID(_ rowid: Int64) -> String { "rq_\(rowid)" }
    static func engagementID(_ rowid: Int64) -> String { "en_\(rowid)" }

    static func rowid(_ id: String, prefix: String) -> Int64? {
        guard id.hasPrefix(prefix + "_"), let rowid = Int64(id.dropFirst(prefix.count + 1)), rowid > 0 else {
            return nil
        }
        return rowid
    }
}
