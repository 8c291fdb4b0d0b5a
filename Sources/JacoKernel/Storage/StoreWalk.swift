import Foundation

/// Whole-store walks: every record the kernel wrote, a page at a time, in key order.
enum StoreWalk {
    /// Calls `body` with each page of records in `snapshot` (all top-level prefixes).
    static func forEachPage(in snapshot: any StorageSnapshot, pageSize: Int = 1000, _ body: ([StoredEntry]) async throws -> Void) async throws {
        for prefix in KeySpace.allPrefixes {
            var after: String? = nil
            repeat {
                let page = try await snapshot.scan(prefix: prefix, startingAfter: after, limit: pageSize)
                if !page.isEmpty { try await body(page) }
                after = page.count == pageSize ? page.last?.key : nil
            } while after != nil
        }
    }
}

extension StoreWalk {
    /// Records by kind (as a snapshot header counts them) in `snapshot`, leaving out `excluded`.
    static func counts(in snapshot: any StorageSnapshot, excluding excluded: Set<String> = []) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        try await forEachPage(in: snapshot) { page in
            for entry in page where !excluded.contains(entry.key) { counts[SnapshotHeader.kind(of: entry.key), default: 0] += 1 }
        }
        return counts
    }
}

/// A capability: the engine caps the operations (conditions and writes) in one transaction,
/// as etcd does (`--max-txn-ops`). Whole-store writes are split to fit.
public protocol BoundedTransactions: Sendable {
    /// The most operations one transaction may carry.
    var maxOperationsPerTransaction: Int { get }
}
