import Foundation
import Synchronization

/// One write waiting for a group commit: its plan, and where its outcome goes.
final class PendingWrite: @unchecked Sendable {
    // Invariants behind @unchecked Sendable: `plan` is immutable; `attempts` and `alone` are
    // only touched by the one group-commit leader that holds the request.
    let plan: (any StorageSnapshot) async throws -> PlannedWrite<any Sendable>
    let deliver: @Sendable (Result<any Sendable, any Error>) -> Void
    /// Times it was planned and lost to a concurrent writer.
    var attempts = 0
    /// Commit it in a batch of its own (after its batch failed in the engine).
    var alone = false

    init(plan: @escaping (any StorageSnapshot) async throws -> PlannedWrite<any Sendable>, deliver: @escaping @Sendable (Result<any Sendable, any Error>) -> Void) {
        self.plan = plan
        self.deliver = deliver
    }
}

/// Where an inline leader's own write's outcome lands.
final class OutcomeBox: Sendable {
    private let outcome = Mutex<Result<any Sendable, any Error>?>(nil)

    /// Records the outcome (once).
    func set(_ result: Result<any Sendable, any Error>) { outcome.withLock { $0 = result } }
    /// Whether no outcome arrived yet.
    var isEmpty: Bool { outcome.withLock { $0 == nil } }
    /// The outcome; call once it arrived.
    func get() throws -> any Sendable { try outcome.withLock { $0! }.get() }
}

/// The queue of writes waiting for the group commit, and whether a leader is draining it.
struct GroupCommitQueue {
    var waiting: [PendingWrite] = []
    var leading = false
}

/// One planned member of a batch.
struct BatchMember {
    var request: PendingWrite
    var transaction: Transaction
    var result: any Sendable
    var tokens: [Token]
    var types: [String]
}

/// How a batch's members become one engine transaction: each write is planned against the
/// state its batch-mates before it leave (``OverlaySnapshot``); conditions on keys a
/// batch-mate wrote were checked there, the rest go to the engine; when several members write
/// a key, the last write wins, as it would have committed one after another.
enum GroupCommit {
    /// The merged transaction of `members`, in order.
    static func merge(_ members: [BatchMember], conditionsChecked: [[Condition]]) -> Transaction {
        // A lone caller's few writes (an issue has five): pairwise compares instead of hashing
        // every key, when no key repeats.
        if members.count == 1, let writes = members.first?.transaction.writes, writes.count <= 16,
            let conditions = conditionsChecked.first, !hasRepeated(writes, { $0.key == $1.key }), !hasRepeated(conditions, ==)
        {
            return Transaction(conditions: conditions, writes: writes)
        }
        var seen = Set<Condition>()
        let conditions = conditionsChecked.joined().filter { seen.insert($0).inserted }
        let all = members.flatMap(\.transaction.writes)
        var lastPosition: [String: Int] = [:]
        for (position, write) in all.enumerated() { lastPosition[write.key] = position }
        let writes = all.enumerated().filter { lastPosition[$0.element.key] == $0.offset }.map(\.element)
        return Transaction(conditions: conditions, writes: writes)
    }

    /// Whether two of `items` are `same`, by pairwise compares (for a handful of items).
    private static func hasRepeated<T>(_ items: [T], _ same: (T, T) -> Bool) -> Bool {
        items.indices.contains { i in items[(i + 1)...].contains { same($0, items[i]) } }
    }
}
