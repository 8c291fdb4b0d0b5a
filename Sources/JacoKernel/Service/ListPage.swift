/// One page of a listing, in store-key order, and where the next page starts. Listings page
/// through the store (each page its own snapshot), so no listing holds the whole table: a record
/// present throughout is seen exactly once; one added or removed meanwhile is seen at most once.
public struct ListPage<Item: Sendable>: Sendable {
    /// The page's items.
    public var items: [Item]
    /// Give it back as `after` for the next page; nil when this was the last. Opaque to callers.
    public var next: String?

    /// Creates a page.
    public init(items: [Item], next: String?) {
        self.items = items
        self.next = next
    }
}

extension ListPage {
    /// Every item of a listing, page by page into one array: for tests and small in-process
    /// stores only; transports hand pages on as they come.
    public static func collect(_ page: (_ after: String?) async throws -> ListPage<Item>) async throws -> [Item] {
        var all: [Item] = []
        var cursor: String? = nil
        repeat {
            let next = try await page(cursor)
            all += next.items
            cursor = next.next
        } while cursor != nil
        return all
    }
}

/// Page sizes for every listing.
public enum Paging {
    /// Items per page when the caller names no size.
    public static let defaultPageSize = 1000
    /// The most items one page holds (a token summary is ~150 bytes on the wire: far below
    /// gRPC's 4 MiB message limit).
    public static let maxPageSize = 5000

    /// `requested` (0: the default) clamped to 1...``maxPageSize``.
    public static func size(_ requested: Int) -> Int {
        requested <= 0 ? defaultPageSize : min(requested, maxPageSize)
    }

    /// Reads one page of the records under `prefix` after the cursor `after` (the key suffix of
    /// the last item of the previous page), decoding each with `decode` and keeping those it
    /// returns non-nil for. `limit` is clamped by ``size(_:)``. A page may hold fewer items when
    /// some were left out; `next` is nil only when the store has nothing after this page.
    static func page<Item: Sendable>(
        of prefix: String, after: String?, limit: Int, in snapshot: any StorageSnapshot, _ decode: (StoredEntry) throws -> Item?
    ) async throws -> ListPage<Item> {
        let limit = size(limit)
        let entries = try await snapshot.scan(prefix: prefix, startingAfter: after.map { prefix + $0 }, limit: limit)
        let items = try entries.compactMap(decode)
        let next = entries.count == limit ? entries.last.map { String($0.key.dropFirst(prefix.count)) } : nil
        return ListPage(items: items, next: next)
    }
}
