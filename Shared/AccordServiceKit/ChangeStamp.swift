/// Who made a change, when (Unix milliseconds) and why: what every stored change records.
public struct ChangeStamp: Sendable {
    public let who: String
    public let at: Int64
    public let why: String?

    public init(who: String, at: Int64, why: String?) {
        self.who = who
        self.at = at
        self.why = why
    }

    /// The same change with another reason.
    public func because(_ why: String?) -> ChangeStamp { ChangeStamp(who: self.who, at: self.at, why: why) }
}
