import Foundation
import Synchronization

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
///
/// Writes are group-committed: those that arrive while a commit is in flight wait in a queue,
/// and the next commit takes them all — each planned against the state the ones before it
/// leave, with its own conditions, audit events (one chain, in commit order) and outcome — as
/// one engine transaction, so one fsync serves them all. A plan that fails fails only its own
/// write; a batch the engine refuses is retried one write at a time.
final class WritePipeline: Sendable {
    let storage: any Storage
    let hasher: any SecretHasher
    let cache: VerificationCache
    let clock: @Sendable () -> Date
    let metrics: KernelMetrics
    /// Serializes batches with ``replaceStore(with:closingWith:keeping:)``.
    let lock = AsyncLock()
    let maxAttempts = 16
    /// The most writes one batch takes.
    static let maxBatch = 256
    private let queue = Mutex(GroupCommitQueue())

    init(storage: any Storage, hasher: any SecretHasher, cache: VerificationCache, metrics: KernelMetrics, clock: @escaping @Sendable () -> Date) {
        self.storage = storage
        self.metrics = metrics
        self.hasher = hasher
        self.cache = cache
        self.clock = clock
    }

    /// Plans (against a snapshot that may carry earlier writes of the same batch), commits and
    /// returns the plan's result once the commit is durable and in the cache.
    func run<R: Sendable>(_ plan: @escaping (any StorageSnapshot) async throws -> PlannedWrite<R>) async throws -> R {
        let erased: (any StorageSnapshot) async throws -> PlannedWrite<any Sendable> = { snapshot in
            let planned = try await plan(snapshot)
            return PlannedWrite<any Sendable>(transaction: planned.transaction, audit: planned.audit, result: planned.result, tokens: planned.tokens)
        }
        // No commit in flight: this caller leads, inline — no task to start, no hop back.
        let leadsInline = queue.withLock { q -> Bool in
            if q.leading { return false }
            q.leading = true
            return true
        }
        if leadsInline {
            let outcome = OutcomeBox()
            queue.withLock { $0.waiting.insert(PendingWrite(plan: erased) { outcome.set($0) }, at: 0) }
            while outcome.isEmpty { await commitNextBatch() }
            // Writes that queued meanwhile get a leader of their own, so this caller returns now.
            let more = queue.withLock { q -> Bool in
                if q.waiting.isEmpty { q.leading = false }
                return q.leading
            }
            if more { Task { await self.lead() } }
            return try outcome.get() as! R
        }
        let result: any Sendable = try await withCheckedThrowingContinuation { continuation in
            let request = PendingWrite(plan: erased) { continuation.resume(with: $0) }
            let lead = queue.withLock { q -> Bool in
                q.waiting.append(request)
                if q.leading { return false }
                q.leading = true
                return true
            }
            if lead { Task { await self.lead() } }
        }
        return result as! R
    }

    /// Commits batches until the queue is empty, then gives up the lead.
    private func lead() async {
        while await commitNextBatch() {}
    }

    /// Commits the next batch; false (and the lead given up) when the queue was empty.
    @discardableResult
    private func commitNextBatch() async -> Bool {
        let batch = queue.withLock { q -> [PendingWrite] in
            guard let first = q.waiting.first else {
                q.leading = false
                return []
            }
            let count = first.alone ? 1 : min(Self.maxBatch, q.waiting.prefix { !$0.alone }.count)
            defer { q.waiting.removeFirst(count) }
            return Array(q.waiting.prefix(count))
        }
        if batch.isEmpty { return false }
        do {
            try await lock.withLock { await commit(batch) }
        } catch {}  // commit(_:) delivers every outcome itself
        return true
    }

    /// Puts writes back at the head of the queue, in order; those that lost too often fail.
    private func requeue(_ requests: [PendingWrite]) {
        let (again, exhausted) = (requests.filter { $0.attempts < maxAttempts }, requests.filter { $0.attempts >= maxAttempts })
        for request in exhausted {
            request.deliver(.failure(JacoError(.unavailable, "the write kept conflicting with concurrent writers after \(maxAttempts) attempts; try again")))
        }
        queue.withLock { $0.waiting.insert(contentsOf: again, at: 0) }
    }

    /// Plans each write of `batch` over the ones before it, commits them as one transaction and
    /// delivers each outcome.
    private func commit(_ batch: [PendingWrite]) async {
        var members: [BatchMember] = []
        var engineConditions: [[Condition]] = []
        var deferred: [PendingWrite] = []
        var answered = Set<ObjectIdentifier>()
        let limit = (storage as? any BoundedTransactions).map { max(8, $0.maxOperationsPerTransaction - 8) } ?? Int.max
        do {
            try await storage.read { snapshot in
                let overlay = OverlaySnapshot(over: snapshot)
                var operations = 0
                for (position, request) in batch.enumerated() {
                    let plan: PlannedWrite<any Sendable>
                    do { plan = try await request.plan(overlay) } catch {
                        request.deliver(.failure(error))
                        answered.insert(ObjectIdentifier(request))
                        continue
                    }
                    var transaction = plan.transaction
                    try await appendAudit(plan.audit, to: &transaction, in: overlay)
                    // An engine that caps a transaction: what does not fit waits for the next batch.
                    if !members.isEmpty, operations + transaction.writes.count + transaction.conditions.count > limit {
                        deferred.append(contentsOf: batch[position...])
                        break
                    }
                    // Conditions on what a batch-mate wrote are checked here; the engine checks the rest.
                    var forEngine: [Condition] = []
                    var holds = true
                    for condition in transaction.conditions {
                        if overlay.hasWritten(condition.key) {
                            if try await !overlay.holds(condition) { holds = false }
                        } else {
                            forEngine.append(condition)
                        }
                    }
                    guard holds else {
                        request.attempts += 1
                        deferred.append(request)
                        continue
                    }
                    try await overlay.apply(transaction.writes)
                    operations += transaction.writes.count + transaction.conditions.count
                    members.append(BatchMember(request: request, transaction: transaction, result: plan.result, tokens: plan.tokens, types: plan.audit.map(\.type)))
                    engineConditions.append(forEngine)
                }
            }
        } catch {
            // The store could not be read: every write of the batch not yet answered fails.
            let waiting = Set(deferred.map(ObjectIdentifier.init))
            for request in batch where !answered.contains(ObjectIdentifier(request)) && !waiting.contains(ObjectIdentifier(request)) {
                request.deliver(.failure(error))
            }
            requeue(deferred)
            return
        }
        defer { requeue(deferred) }
        guard !members.isEmpty else { return }
        let transaction = GroupCommit.merge(members, conditionsChecked: engineConditions)
        do {
            let started = ContinuousClock.now
            let index = try await commitResolvingUnknownOutcome(transaction)
            metrics.recordCommit(ContinuousClock.now - started)
            for type in members.flatMap(\.types) { metrics.countWrite(type: type) }
            // Our own commit goes straight into the cache when it is next in line; otherwise
            // the change feed brings it, after the changes before it.
            if !cache.applyCommitted(at: index, transaction: transaction, tokens: members.flatMap(\.tokens)) {
                await cache.waitUntilApplied(index)
            }
            for member in members { member.request.deliver(.success(member.result)) }
        } catch let error as JacoError where error.code == .conflict {
            // Another process wrote first: plan again on a fresh snapshot.
            for member in members { member.request.attempts += 1 }
            deferred.insert(contentsOf: members.map(\.request), at: 0)
        } catch {
            if members.count == 1 {
                members[0].request.deliver(.failure(error))
            } else {
                // Which write the engine refused is unknown: each on its own, so only it fails.
                for member in members { member.request.alone = true }
                deferred.insert(contentsOf: members.map(\.request), at: 0)
            }
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
