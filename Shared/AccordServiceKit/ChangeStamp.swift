/// Who made a change, when (Unix milliseconds) and why: what every stored change records; for a
/// fact recorded after it happened, also when it happened.
public struct ChangeStamp: Sendable {
    public let who: String
    public let at: Int64
    public let why: String?
    /// When the fact happened, for one recorded later than that; nil when it happens as recorded.
    public let happenedAt: Int64?

    public init(who: String, at: Int64, why: String?, happenedAt: Int64? = nil) {
        self.who = who
        self.at = at
        self.why = why
        self.happenedAt = happenedAt
    }

    /// The same change with another reason.
    public func because(_ why: String?) -> ChangeStamp {
        ChangeStamp(who: self.who, at: self.at, why: why, happenedAt: self.happenedAt)
    }

    /// The same change, of a fact that happened at `moment`: kept when that is earlier than the
    /// recording.
    public func happened(at moment: Int64?) -> ChangeStamp {
        guard let moment, moment < self.at else { return self }
        return ChangeStamp(who: self.who, at: self.at, why: self.why, happenedAt: moment)
    }
}
