import Foundation
import JacoKernel
import Synchronization

/// An in-memory store for tests and harnesses, with fault injection. Nothing survives the process.
final class MemoryStore: Storage, FaultInjecting {
    private struct State {
        var values: [String: StoredValue] = [:]
        var index: StoreIndex = 0
        var fault: StorageFault?
        var closed = false
    }

    private let state = Mutex(State())
    private let hub: ChangeFeedHub

    init(retainChanges: Int) {
        hub = ChangeFeedHub(latestIndex: 0, capacity: retainChanges)
    }

    func injectFault(_ fault: StorageFault) {
        state.withLock { $0.fault = fault }
    }

    func read<R: Sendable>(_ body: (any StorageSnapshot) async throws -> R) async throws -> R {
        let snapshot = try state.withLock { s throws(JacoError) in
            if s.closed { throw Self.closedError }
            return Snapshot(index: s.index, values: s.values)
        }
        return try await body(snapshot)
    }

    func commit(_ transaction: Transaction) async throws -> StoreIndex {
        let change = try state.withLock { s throws(JacoError) -> Change? in
            if s.closed { throw Self.closedError }
            for condition in transaction.conditions { try condition.check(against: s.values[condition.key]) }
            let fault = s.fault
            s.fault = nil
            // Apply to a copy; the copy replaces the state only if every write succeeded.
            var values = s.values
            var mutations: [Mutation] = []
            let index = s.index + 1
            for (position, write) in transaction.writes.enumerated() {
                if let fault, fault.fires(afterWriting: position, of: transaction.writes.count) { throw fault.error }
                switch write {
                case .put(let key, let bytes):
                    values[key] = StoredValue(bytes: bytes, createIndex: values[key]?.createIndex ?? index, modifyIndex: index)
                    mutations.append(Mutation(key: key, value: bytes))
                case .delete(let key):
                    if values.removeValue(forKey: key) != nil { mutations.append(Mutation(key: key, value: nil)) }
                }
            }
            if let fault, fault.fires(afterWriting: transaction.writes.count, of: transaction.writes.count) { throw fault.error }
            guard !mutations.isEmpty else { return nil }
            s.values = values
            s.index = index
            let change = Change(index: index, mutations: mutations)
            hub.publish(change)
            return change
        }
        return change?.index ?? state.withLock { $0.index }
    }

    func changes(after index: StoreIndex) -> ChangeFeed {
        hub.feed(after: index) { after, _ in
            throw JacoError(.compacted, "the memory store no longer holds changes after index \(after)")
        }
    }

    func close() async throws {
        state.withLock { $0.closed = true }
        hub.close()
    }

    private static let closedError = JacoError(.closed, "the memory store is closed")

    private struct Snapshot: StorageSnapshot {
        let index: StoreIndex
        let values: [String: StoredValue]

        func get(_ key: String) async throws -> StoredValue? { values[key] }

        func scan(prefix: String, startingAfter: String?, limit: Int) async throws -> [StoredEntry] {
            let keys = values.keys
                .filter { key in
                    key.utf8.starts(with: prefix.utf8) && (startingAfter.map { $0.utf8.lexicographicallyPrecedes(key.utf8) } ?? true)
                }
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                .prefix(limit)
            return keys.map { StoredEntry(key: $0, value: values[$0]!) }
        }

        func count(prefix: String) async throws -> Int? {
            values.keys.count { $0.utf8.starts(with: prefix.utf8) }
        }
    }
}
