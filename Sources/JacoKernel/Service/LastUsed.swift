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

/// When one token was last used: this daemon's own last verify and the newest time in the store
/// (what this daemon last wrote or read there). Both live in one atomic word, seconds since 1970
/// in 32 bits each (good until 2106), so that a cache entry fits a smaller allocation size class.
/// Relaxed atomics: a verify reads the word and writes it at most once a second, with no lock.
/// Not final: the verification cache's entry for a token's current secret is its use record (one
/// object per token, not two).
class UseRecord: @unchecked Sendable {  // only an atomic: safe to share
    /// This daemon's last verify in the high half, the store's newest time in the low half.
    private let times = Atomic<UInt64>(0)

    private static func seen(_ word: UInt64) -> Int64 { Int64(word >> 32) }
    private static func inStore(_ word: UInt64) -> Int64 { Int64(word & 0xFFFF_FFFF) }
    /// `seconds` clamped into 32 bits.
    private static func half(_ seconds: Int64) -> UInt64 { UInt64(min(max(seconds, 0), Int64(UInt32.max))) }

    /// Records a verify now (to the second).
    @inline(__always)
    final func record() { record(at: UseClock.now) }

    /// Records a verify at `now` (``UseClock``'s second, read by the caller before it takes a
    /// lock: the rare first read calls the clock, and an opaque call under the lock makes a
    /// caller holding a borrowed reference retain it).
    @inline(__always)
    final func record(at now: Int64) {
        let now = Self.half(now)
        if times.load(ordering: .relaxed) >> 32 < now { raiseSeen(to: now) }
    }

    /// Sets this daemon's last verify to `seconds` unless it is newer already.
    private final func raiseSeen(to seconds: UInt64) {
        var word = times.load(ordering: .relaxed)
        while word >> 32 < seconds {
            let (exchanged, original) = times.compareExchange(expected: word, desired: seconds << 32 | word & 0xFFFF_FFFF, ordering: .relaxed)
            if exchanged { return }
            word = original
        }
    }

    /// Takes a time found in (or written to) the store; the newest wins.
    final func stored(_ seconds: Int64) {
        let value = Self.half(seconds)
        var word = times.load(ordering: .relaxed)
        while word & 0xFFFF_FFFF < value {
            let (exchanged, original) = times.compareExchange(expected: word, desired: word & ~0xFFFF_FFFF | value, ordering: .relaxed)
            if exchanged { return }
            word = original
        }
    }

    /// Keeps the newer of each time from `other` (a record replaced by a cache reload).
    final func absorb(_ other: UseRecord) {
        let theirs = other.times.load(ordering: .relaxed)
        stored(Self.inStore(theirs))
        raiseSeen(to: theirs >> 32)
    }

    /// This daemon's own verify time, when it is newer than what the store holds.
    final var unflushed: Int64? {
        let word = times.load(ordering: .relaxed)
        return Self.seen(word) > Self.inStore(word) ? Self.seen(word) : nil
    }

    /// Whether this daemon has a newer time than the store.
    final var needsFlush: Bool { unflushed != nil }

    /// The newest time known, in seconds since 1970; nil when never used.
    final var newest: Int64? {
        let word = times.load(ordering: .relaxed)
        let newest = max(Self.seen(word), Self.inStore(word))
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
