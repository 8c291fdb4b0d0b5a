import Foundation
import Synchronization

/// The current second, for the verify path: one atomic load instead of a clock call. The
/// kernel's ticker advances it.
enum UseClock {
    /// Zero until first read. A constant initial value lets the compiler lay the atomic out
    /// statically: reading it then needs no one-time-initialization call.
    private static let second = Atomic<Int64>(0)

    /// The current second (since 1970), as of the last tick.
    @inline(__always)
    static var now: Int64 {
        let now = second.load(ordering: .relaxed)
        if now != 0 { return now }
        tick()
        return second.load(ordering: .relaxed)
    }

    /// Sets it from the system clock.
    static func tick() { second.store(Int64(Date().timeIntervalSince1970), ordering: .relaxed) }
}

/// When one token was last used: this daemon's own last verify, the newest time in the store,
/// and what this daemon last wrote. Updated with relaxed atomics: a verify reads one value and
/// writes at most once a second, with no lock. Not final: the verification cache's entry for a
/// token's current secret is its use record (one object per token, not two).
class UseRecord: @unchecked Sendable {  // only atomics: safe to share
    private let seen = Atomic<Int64>(0)
    private let inStore = Atomic<Int64>(0)

    /// Records a verify now (to the second).
    @inline(__always)
    func record() { record(at: UseClock.now) }

    /// Records a verify at `now` (``UseClock``'s second, read by the caller before it takes a
    /// lock: the rare first read calls the clock, and an opaque call under the lock makes a
    /// caller holding a borrowed reference retain it).
    @inline(__always)
    func record(at now: Int64) {
        if seen.load(ordering: .relaxed) < now { seen.store(now, ordering: .relaxed) }
    }

    /// Takes a time found in (or written to) the store; the newest wins.
    func stored(_ seconds: Int64) {
        var current = inStore.load(ordering: .relaxed)
        while current < seconds {
            let (exchanged, original) = inStore.compareExchange(expected: current, desired: seconds, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// Keeps the newer of each time from `other` (a record replaced by a cache reload).
    func absorb(_ other: UseRecord) {
        stored(other.inStore.load(ordering: .relaxed))
        let theirs = other.seen.load(ordering: .relaxed)
        if seen.load(ordering: .relaxed) < theirs { seen.store(theirs, ordering: .relaxed) }
    }

    /// This daemon's own verify time, when it is newer than what the store holds.
    var unflushed: Int64? {
        let own = seen.load(ordering: .relaxed)
        return own > inStore.load(ordering: .relaxed) ? own : nil
    }

    /// Whether this daemon has a newer time than the store.
    var needsFlush: Bool { unflushed != nil }

    /// The newest time known, in seconds since 1970; nil when never used.
    var newest: Int64? {
        let newest = max(seen.load(ordering: .relaxed), inStore.load(ordering: .relaxed))
        return newest > 0 ? newest : nil
    }
}

/// The stored form of a last-used time: seconds since 1970, 8 bytes big-endian.
enum LastUsedCodec {
    static func encode(_ seconds: Int64) -> Data {
        withUnsafeBytes(of: seconds.bigEndian) { Data($0) }
    }

    static func decode(_ data: Data) -> Int64? {
        guard data.count == 8 else { return nil }
        return data.reduce(0) { ($0 << 8) | Int64($1) }
    }
}

extension TokenService {
    /// Writes this daemon's newer last-used times to the store, in batches, without audit
    /// events (a use is not a change). Each time is written only when it is newer than the
    /// stored one, under a condition on that key, so daemons sharing a store keep the newest.
    /// Returns how many tokens' times were written.
    @discardableResult
    public func flushLastUsed() async throws -> Int {
        let pending = cache.unflushedUses()
        guard !pending.isEmpty else { return 0 }
        var written = 0
        for start in stride(from: 0, to: pending.count, by: 64) {
            let batch = Array(pending[start..<min(start + 64, pending.count)])
            for attempt in 1...4 {
                do {
                    written += try await flush(batch)
                    break
                } catch let error as JacoError where error.code == .conflict && attempt < 4 {
                    continue  // another daemon wrote one of these keys: read again
                }
            }
        }
        return written
    }

    private func flush(_ batch: [(accessorID: String, use: UseRecord)]) async throws -> Int {
        var transaction = Transaction(writes: [])
        var applied: [(UseRecord, Int64)] = []
        try await storage.read { snapshot in
            for (accessorID, use) in batch {
                guard let own = use.unflushed else { continue }
                // Only tokens that still exist get a time.
                guard try await snapshot.get(KeySpace.token(accessorID)) != nil else { continue }
                let key = KeySpace.lastUsed(accessorID)
                if let stored = try await snapshot.get(key) {
                    let theirs = LastUsedCodec.decode(stored.bytes) ?? 0
                    use.stored(theirs)
                    guard own > theirs else { continue }
                    transaction.conditions.append(.modifiedAt(key, stored.modifyIndex))
                } else {
                    transaction.conditions.append(.absent(key))
                }
                transaction.writes.append(.put(key, LastUsedCodec.encode(own)))
                applied.append((use, own))
            }
        }
        guard !transaction.writes.isEmpty else { return 0 }
        _ = try await storage.commit(transaction)
        for (use, seconds) in applied { use.stored(seconds) }
        return applied.count
    }
}
