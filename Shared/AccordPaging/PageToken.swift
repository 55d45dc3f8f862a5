public import AccordMessages
import AccordRPC

/// A list's position: the last row id returned, tied to the query's filters by a fingerprint, so
/// that a token from another query (or a made-up one) is refused instead of paging somewhere odd.
public struct PageToken: Sendable {
    public let afterRowid: Int64

    /// Pages hold 100 items unless asked otherwise, and at most 1,000.
    public static let defaultPageSize: UInt32 = 100
    public static let maxPageSize: UInt32 = 1000

    /// The page size asked for, within bounds.
    public static func size(_ page: PageRequest?) throws -> Int {
        let size = page?.pageSize ?? 0
        guard size <= Self.maxPageSize else {
            throw RPCError.invalidArgument(field: "page.page_size", "must be at most \(Self.maxPageSize)")
        }
        return Int(size == 0 ? Self.defaultPageSize : size)
    }

    /// The position in `page`, or the start; `filters` must be the same as when it was made.
    public static func decode(_ page: PageRequest?, filters: [String]) throws -> PageToken {
        guard let token = page?.pageToken, !token.isEmpty else { return PageToken(afterRowid: 0) }
        let parts = token.split(separator: ".")
        guard parts.count == 2, let rowid = Int64(parts[0], radix: 36), rowid > 0,
            parts[1] == Self.fingerprint(filters, rowid)
        else {
            throw RPCError.invalidArgument(field: "page.page_token", "is not a token this list gave for these filters")
        }
        return PageToken(afterRowid: rowid)
    }

    /// Splits the `size + 1` items a list fetched into the page and the token of the next one
    /// (absent on the last page); `position` is an item's row id.
    public static func split<Item>(
        _ items: [Item],
        size: Int,
        filters: [String],
        position: (Item) -> Int64
    ) -> (items: ArraySlice<Item>, page: PageResponse) {
        let page = items.prefix(size)
        guard items.count > size, let last = page.last else { return (page, PageResponse()) }
        return (page, PageResponse(nextPageToken: self.encode(afterRowid: position(last), filters: filters)))
    }

    public static func encode(afterRowid rowid: Int64, filters: [String]) -> String {
        "\(String(rowid, radix: 36)).\(self.fingerprint(filters, rowid))"
    }

    /// FNV-1a over the filters and the position: not a secret, a check against mistakes.
    private static func fingerprint(_ filters: [String], _ rowid: Int64) -> Substring {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (filters.joined(separator: "\u{1F}") + "\u{1E}\(rowid)").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Substring(String(hash, radix: 36))
    }
}
