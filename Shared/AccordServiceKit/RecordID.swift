/// The ids users know (`ag_12`, `of_3`, `mo_7`): a service's prefix, an underscore, a row id.
public enum RecordID {
    /// The row id behind an id a service made (0 for anything else), e.g. to page past it.
    public static func rowid(of id: String?) -> Int64 {
        guard let id, let separator = id.firstIndex(of: "_") else { return 0 }
        return Int64(id[id.index(after: separator)...]) ?? 0
    }
}

extension Duration {
    /// Whole milliseconds, as the services' Unix-millisecond times count them.
    public var wholeMilliseconds: Int64 {
        self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000
    }
}
