import Synchronization

/// Fans committed changes out to change-feed subscribers.
///
/// An engine publishes each change right after it commits, in commit order. The hub keeps the
/// most recent changes in memory; a subscriber behind that window reads older ones through the
/// engine's `loadOlder` closure (its durable change log), then continues from memory.
public final class ChangeFeedHub: Sendable {
    /// Reads up to `limit` retained changes after an index from the engine's log, in order.
    /// It throws `compacted` when that index is older than what the log retains.
    public typealias LoadOlder = @Sendable (_ after: StoreIndex, _ limit: Int) async throws -> [Change]

    private struct State {
        var latest: StoreIndex
        /// Every change with an index greater than `floor` is in `recent`.
        var floor: StoreIndex
        var recent: [Change] = []
        var head = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
        var closed = false
    }

    private let state: Mutex<State>
    private let capacity: Int

    /// Creates a hub whose store currently stands at `latestIndex`.
    public init(latestIndex: StoreIndex, capacity: Int = 4096) {
        self.state = Mutex(State(latest: latestIndex, floor: latestIndex))
        self.capacity = max(1, capacity)
    }

    /// Records a committed change and wakes subscribers. Call in commit order.
    public func publish(_ change: Change) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.recent.append(change)
            if s.recent.count - s.head > capacity {
                s.floor = s.recent[s.head].index
                s.head += 1
                if s.head > capacity {
                    s.recent.removeFirst(s.head)
                    s.head = 0
                }
            }
            s.latest = change.index
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Ends every subscription (the store is closing).
    public func close() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// A change feed: changes after `index`, then live ones, until cancelled or the hub closes.
    public func feed(after index: StoreIndex, loadOlder: @escaping LoadOlder) -> ChangeFeed {
        ChangeFeed(hub: self, after: index, loadOlder: loadOlder)
    }

    /// The next non-empty batch after `cursor`, waiting for one; nil when closed or cancelled.
    func next(after cursor: StoreIndex, loadOlder: LoadOlder) async throws -> [Change]? {
        while true {
            enum Step { case batch([Change]), older, wait, end }
            let step = state.withLock { s -> Step in
                if s.closed { return .end }
                if cursor >= s.latest { return .wait }
                if cursor < s.floor { return .older }
                return .batch(Array(s.recent[Self.firstIndex(after: cursor, in: s.recent, from: s.head)...]))
            }
            switch step {
            case .end: return nil
            case .batch(let changes): return changes
            case .older:
                let older = try await loadOlder(cursor, 512)
                if older.isEmpty {
                    throw JacoError(.compacted, "changes after index \(cursor) are no longer retained; reload from a snapshot")
                }
                return older
            case .wait:
                await waitForChange(after: cursor)
                if Task.isCancelled { return nil }
            }
        }
    }

    /// Binary search: the position of the first change with an index greater than `cursor`.
    private static func firstIndex(after cursor: StoreIndex, in changes: [Change], from start: Int) -> Int {
        var low = start
        var high = changes.count
        while low < high {
            let mid = (low + high) / 2
            if changes[mid].index <= cursor { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func waitForChange(after cursor: StoreIndex) async {
        let id = state.withLock { s in
            defer { s.nextWaiterID += 1 }
            return s.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.closed || s.latest > cursor || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
