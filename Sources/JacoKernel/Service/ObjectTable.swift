/// How an ``ObjectTable`` finds an object's home slot: a uniformly spread 64-bit tag computed
/// from the object itself (its key), so the table needs to store nothing but the reference.
protocol ObjectTableKey {
    associatedtype Value: AnyObject
    /// The tag of `value`'s key (what ``ObjectTable/first(tag:where:)`` is asked with).
    static func tag(of value: Value) -> UInt64
}

/// A hash table of objects that carry their own key, in 8-byte slots (just the reference): for
/// the verification cache's maps off the verify path (accessor ID → token, identity → token), at
/// half the memory of a ``TaggedTable``; a probe reads the object to compare keys. At most half
/// full; linear probing; deletion by backward shift (no tombstones).
struct ObjectTable<Key: ObjectTableKey> {
    typealias Value = Key.Value

    private var slots: [Value?]
    private var mask: Int
    /// Number of entries.
    private(set) var count = 0

    /// Creates an empty table with room for `capacity` entries before it grows.
    init(capacity: Int = 32) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: nil, count: size)
        mask = size - 1
    }

    private func home(_ tag: UInt64) -> Int { Int(truncatingIfNeeded: tag) & mask }

    /// The entry with `tag` for which `matches` holds (the full key's comparison), if any.
    func first(tag: UInt64, where matches: (Value) -> Bool) -> Value? {
        var i = home(tag)
        while let value = slots[i] {
            if matches(value) { return value }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Puts `value` in the slot of the entry that `matches` (replacing it), or in a new one.
    mutating func set(_ value: Value, replacing matches: (Value) -> Bool) {
        if (count + 1) * 2 > slots.count { rehash(to: slots.count * 2) }
        var i = home(Key.tag(of: value))
        while let existing = slots[i] {
            if matches(existing) {
                slots[i] = value
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = value
        count += 1
    }

    /// Removes the entry with `tag` that `matches`; returns it, or nil when there is none.
    @discardableResult
    mutating func remove(tag: UInt64, where matches: (Value) -> Bool) -> Value? {
        var i = home(tag)
        while let existing = slots[i] {
            if matches(existing) { break }
            i = (i + 1) & mask
        }
        guard let removed = slots[i] else { return nil }
        let mask = mask
        slots.withUnsafeMutableBufferPointer { slots in
            let last = BackwardShift.close(
                hole: i, mask: mask, isEmpty: { slots[$0] == nil },
                home: { Int(truncatingIfNeeded: Key.tag(of: slots[$0].unsafelyUnwrapped)) & mask }
            ) { from, to in slots[to] = slots[from] }
            slots[last] = nil
        }
        count -= 1
        return removed
    }

    /// Calls `body` with every entry, in no particular order.
    func forEach(_ body: (Value) -> Void) {
        for case let value? in slots { body(value) }
    }

    /// Makes room for `capacity` entries at once (one rehash instead of one per doubling).
    mutating func reserve(_ capacity: Int) {
        var size = slots.count
        while size < capacity * 2 { size <<= 1 }
        if size > slots.count { rehash(to: size) }
    }

    private mutating func rehash(to size: Int) {
        let old = slots
        slots = Array(repeating: nil, count: size)
        mask = size - 1
        for case let value? in old {
            var i = home(Key.tag(of: value))
            while slots[i] != nil { i = (i + 1) & mask }
            slots[i] = value
        }
    }
}

extension ObjectTable: Sendable where Value: Sendable {}

/// Linear probing's deletion without tombstones, shared by the cache's tables.
enum BackwardShift {
    /// Closes the hole at `hole` (a slot being emptied): later entries of the probe run move
    /// back into it (`move(from, to)` copies a slot) when their home slot lies cyclically at or
    /// before it. Returns the slot left empty at the end, for the caller to clear.
    @inline(__always)
    static func close(hole: Int, mask: Int, isEmpty: (Int) -> Bool, home: (Int) -> Int, move: (Int, Int) -> Void) -> Int {
        var i = hole
        var j = hole
        while true {
            j = (j + 1) & mask
            guard !isEmpty(j) else { break }
            let k = home(j)
            let movable = i <= j ? (k <= i || k > j) : (k <= i && k > j)
            if movable {
                move(j, i)
                i = j
            }
        }
        return i
    }
}
