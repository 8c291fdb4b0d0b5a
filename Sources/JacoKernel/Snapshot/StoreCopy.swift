import Foundation

/// Copies every record from one store to another (`jaco store migrate`, daemons stopped): the
/// same keys and values, so tokens, secrets' digests, policies, roles, deployments, the audit
/// chain and the cluster CA move as they are. Engine indexes are the target's own.
public enum StoreCopy {
    /// Records by kind, as in a snapshot header.
    public typealias Counts = [String: Int]

    /// Copies `source` (one consistent snapshot) into `target`, which must be empty unless
    /// `replace` (then its records are deleted first). Calls `progress(copied, total)` after each
    /// batch. Checks afterwards that the target holds as many records of each kind; returns
    /// those counts.
    public static func copy(
        from source: any Storage, to target: any Storage, replace: Bool, progress: (_ copied: Int, _ total: Int) -> Void
    ) async throws -> Counts {
        let batchSize = (target as? any BoundedTransactions).map { max(1, $0.maxOperationsPerTransaction - 8) } ?? 1000
        let existing = try await counts(of: target)
        let present = existing.values.reduce(0, +)
        if present > 0 {
            guard replace else {
                throw JacoError(.validationFailed, "the target store is not empty (\(present) records: \(describe(existing))); migrate into an empty store, or pass --force to replace what it holds")
            }
            try await clear(target, batchSize: batchSize)
        }
        let expected: Counts
        do {
            expected = try await source.read { snapshot in
                let counts = try await StoreWalk.counts(in: snapshot)
                let total = counts.values.reduce(0, +)
                var copied = 0
                progress(0, total)
                try await StoreWalk.forEachPage(in: snapshot, pageSize: batchSize) { page in
                    _ = try await target.commit(Transaction(writes: page.map { .put($0.key, $0.value.bytes) }))
                    copied += page.count
                    progress(copied, total)
                }
                return counts
            }
        } catch let error as JacoError {
            // A copy cut off (a full or unreachable target) leaves the target empty again.
            let outcome: String
            do {
                try await clear(target, batchSize: batchSize)
                outcome = "the copy stopped and the target was emptied again"
            } catch {
                outcome = "the copy stopped, and the target could not be emptied again (\(error)): it holds part of the copy, so run the migration again with --force"
            }
            throw JacoError(error.code, "\(error.message); \(outcome)")
        }
        let copied = try await counts(of: target)
        guard copied == expected else {
            throw JacoError(.storageFailure, "the target holds \(describe(copied)) after the copy, the source \(describe(expected)); run the migration again with --force")
        }
        return copied
    }

    /// Records by kind in `storage`.
    public static func counts(of storage: any Storage) async throws -> Counts {
        try await storage.read { try await StoreWalk.counts(in: $0) }
    }

    /// `3 tokens, 1 policies, …`, in a fixed order.
    public static func describe(_ counts: Counts) -> String {
        counts.isEmpty ? "no records" : counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }

    private static func clear(_ target: any Storage, batchSize: Int) async throws {
        let keys = try await target.read { snapshot in
            var keys: [String] = []
            try await StoreWalk.forEachPage(in: snapshot) { page in keys += page.map(\.key) }
            return keys
        }
        for start in stride(from: 0, to: keys.count, by: batchSize) {
            _ = try await target.commit(Transaction(writes: keys[start..<min(start + batchSize, keys.count)].map { .delete($0) }))
        }
    }
}
