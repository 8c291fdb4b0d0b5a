import Foundation

/// A store snapshot with a group commit's earlier writes laid over it: each write of a batch is
/// planned against the state its batch-mates before it leave, before any of them is durable.
///
/// A key written here reads back with a pending index no store hands out (counting down from
/// `UInt64.max`), so a plan's `modifiedAt` condition on it names that pending write; such
/// conditions are checked here, not by the engine (see ``GroupCommit``).
final class OverlaySnapshot: StorageSnapshot {
    private let base: any StorageSnapshot
    /// Key → value (nil: deleted) written by earlier batch-mates.
    private var written: [String: StoredValue?] = [:]
    private var nextPendingIndex = StoreIndex.max

    init(over base: any StorageSnapshot) { self.base = base }

    var index: StoreIndex { base.index }

    /// Whether a batch-mate before has written `key`.
    func hasWritten(_ key: String) -> Bool { written[key] != nil }

    func get(_ key: String) async throws -> StoredValue? {
        if let value = written[key] { return value }
        return try await base.get(key)
    }

    func scan(prefix: String, startingAfter: String?, limit: Int) async throws -> [StoredEntry] {
        let inRange = written.filter { key, _ in key.hasPrefix(prefix) && startingAfter.map { key > $0 } ?? true }
        // Deleted keys may hide entries of the base page: ask for as many more.
        let extra = inRange.values.filter { $0 == nil }.count
        let fromBase = try await base.scan(prefix: prefix, startingAfter: startingAfter, limit: limit >= Int.max - extra ? .max : limit + extra)
        var merged = fromBase.filter { inRange[$0.key] == nil }
        let baseIsWhole = fromBase.count < (limit >= Int.max - extra ? .max : limit + extra)
        let lastBaseKey = fromBase.last?.key
        for (key, value) in inRange {
            guard let value else { continue }
            // Past the end of a partial base page, the base may hold keys before this one.
            if !baseIsWhole, let lastBaseKey, key > lastBaseKey { continue }
            merged.append(StoredEntry(key: key, value: value))
        }
        merged.sort { $0.key < $1.key }
        return Array(merged.prefix(limit))
    }

    /// The base's count with the batch-mates' puts of new keys and deletes of existing ones
    /// counted in; nil where the base cannot count.
    func count(prefix: String) async throws -> Int? {
        guard var count = try await base.count(prefix: prefix) else { return nil }
        for (key, value) in written where key.hasPrefix(prefix) {
            let inBase = try await base.get(key) != nil
            if value == nil && inBase { count -= 1 } else if value != nil && !inBase { count += 1 }
        }
        return count
    }

    /// Whether `condition` holds here (``Condition/check(against:)`` on the overlaid value);
    /// the pending index of a batch-mate's write counts as its modify index.
    func holds(_ condition: Condition) async throws -> Bool {
        do {
            try condition.check(against: try await get(condition.key))
            return true
        } catch let error as JacoError where error.code == .conflict {
            return false
        }
    }

    /// Lays a transaction's writes over the snapshot.
    func apply(_ writes: [Write]) async throws {
        for write in writes {
            switch write {
            case .put(let key, let data):
                let created = try await get(key)?.createIndex ?? nextPendingIndex
                written[key] = StoredValue(bytes: data, createIndex: created, modifyIndex: nextPendingIndex)
                nextPendingIndex -= 1
            case .delete(let key):
                written[key] = .some(nil)
            }
        }
    }
}
