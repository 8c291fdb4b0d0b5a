import Foundation

/// What one state change wants to write: the transaction, the audit events that record it,
/// and the value to return once it committed.
struct PlannedWrite<Result: Sendable> {
    var transaction: Transaction
    var audit: [AuditRecord]
    var result: Result
    /// The token records the transaction puts, so the cache can take them without decoding.
    var tokens: [Token] = []
}

/// The part of an audit event the caller supplies; the pipeline numbers and chains it.
struct AuditRecord {
    var identity: String
    var type: String
    var payload: [String: String]
}

/// Runs kernel writes: plan against a snapshot, append the chained audit event in the same
/// transaction, commit, retry on conflict, and return once the verification cache has seen it.
final class WritePipeline: Sendable {
    let storage: any Storage
    let hasher: any SecretHasher
    let cache: VerificationCache
    let clock: @Sendable () -> Date
    let metrics: KernelMetrics
    let lock = AsyncLock()
    let maxAttempts = 16

    init(storage: any Storage, hasher: any SecretHasher, cache: VerificationCache, metrics: KernelMetrics, clock: @escaping @Sendable () -> Date) {
        self.storage = storage
        self.metrics = metrics
        self.hasher = hasher
        self.cache = cache
        self.clock = clock
    }

    func run<R: Sendable>(_ plan: (any StorageSnapshot) async throws -> PlannedWrite<R>) async throws -> R {
        try await lock.withLock {
            for _ in 1...maxAttempts {
                let (transaction, result, tokens, types) = try await storage.read { snapshot in
                    let planned = try await plan(snapshot)
                    var transaction = planned.transaction
                    try await appendAudit(planned.audit, to: &transaction, in: snapshot)
                    return (transaction, planned.result, planned.tokens, planned.audit.map(\.type))
                }
                do {
                    let started = ContinuousClock.now
                    let index = try await commitResolvingUnknownOutcome(transaction)
                    metrics.recordCommit(ContinuousClock.now - started)
                    for type in types { metrics.countWrite(type: type) }
                    // Our own commit goes straight into the cache when it is next in line;
                    // otherwise the change feed brings it, after the changes before it.
                    if !cache.applyCommitted(at: index, transaction: transaction, tokens: tokens) {
                        await cache.waitUntilApplied(index)
                    }
                    return result
                } catch let error as JacoError where error.code == .conflict {
                    continue  // another writer got there first: plan again on a fresh snapshot
                }
            }
            throw JacoError(.unavailable, "the write kept conflicting with concurrent writers after \(maxAttempts) attempts; try again")
        }
    }

    /// Replaces every record but `keeping` with `puts`, then applies `closing` (the audit event
    /// and head that record the replacement), serialized with every other write. One
    /// transaction when the engine takes it; on engines that cap a transaction's size
    /// (``BoundedTransactions``), batches: first the puts, then deleting what the new state
    /// lacks, then `closing`. Returns once the cache reflects it.
    func replaceStore(with puts: [Write], closingWith closing: [Write], keeping: Set<String>) async throws {
        try await lock.withLock {
            let incoming = Set(puts.map(\.key) + closing.map(\.key))
            var stale: [Write] = []
            try await storage.read { snapshot in
                try await StoreWalk.forEachPage(in: snapshot) { page in
                    for entry in page where !incoming.contains(entry.key) && !keeping.contains(entry.key) { stale.append(.delete(entry.key)) }
                }
            }
            let writes = puts + stale + closing
            var index: StoreIndex = 0
            if let bounded = storage as? any BoundedTransactions {
                let size = max(1, bounded.maxOperationsPerTransaction - 8)
                for start in stride(from: 0, to: writes.count, by: size) {
                    index = try await storage.commit(Transaction(writes: Array(writes[start..<min(start + size, writes.count)])))
                }
            } else {
                index = try await storage.commit(Transaction(writes: writes))
            }
            await cache.waitUntilApplied(index)
        }
    }

    /// Commits; when the store cannot say whether the commit was applied (a connection lost
    /// mid-call), looks for this transaction's own audit head: every transaction writes one,
    /// and its hash chains over this commit's events, so finding it means the commit applied.
    /// Not finding it means it did not (the head's condition makes a late apply impossible
    /// after a newer head), and the caller plans again.
    private func commitResolvingUnknownOutcome(_ transaction: Transaction) async throws -> StoreIndex {
        do {
            return try await storage.commit(transaction)
        } catch let error as JacoError where error.code == .outcomeUnknown {
            guard let head = transaction.writes.last(where: { $0.key == KeySpace.auditHead }), case .put(_, let expected) = head else {
                throw JacoError(.unavailable, error.message)
            }
            for attempt in 1...5 {
                do {
                    let stored = try await storage.read { try await $0.get(KeySpace.auditHead) }
                    if let stored, stored.bytes == expected { return stored.modifyIndex }
                    throw JacoError(.conflict, "the unconfirmed write was not applied")
                } catch let readError as JacoError where readError.code == .unavailable && attempt < 5 {
                    try await Task.sleep(for: .milliseconds(100 * attempt))
                }
            }
            throw JacoError(.unavailable, error.message)
        }
    }

    private func appendAudit(_ records: [AuditRecord], to transaction: inout Transaction, in snapshot: any StorageSnapshot) async throws {
        let stored = try await snapshot.get(KeySpace.auditHead)
        let head = try stored.map { try AuditHead(decoding: $0.bytes, key: KeySpace.auditHead) }
        var sequence = head?.sequence ?? 0
        var previous = head?.hash ?? .zero
        let time = clock()
        for record in records {
            sequence += 1
            var event = AuditEvent(
                sequence: sequence, time: time, identity: record.identity, type: record.type,
                payload: record.payload, previousHash: previous, hash: .zero)
            event.hash = hasher.contentHash(event.canonicalBytes)
            transaction.writes.append(.put(KeySpace.audit(event.sequence), event.encode()))
            previous = event.hash
        }
        transaction.conditions.append(stored.map { .modifiedAt(KeySpace.auditHead, $0.modifyIndex) } ?? .absent(KeySpace.auditHead))
        transaction.writes.append(.put(KeySpace.auditHead, AuditHead(sequence: sequence, hash: previous).encode()))
    }
}
