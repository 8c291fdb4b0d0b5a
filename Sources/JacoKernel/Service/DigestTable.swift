/// A hash table from digests to values, for the verification cache's hot path. Digests are
/// uniformly random already, so a slot is picked from the digest's first word directly: no
/// hashing pass, linear probing, at most half full, and deletion by backward shift (no
/// tombstones).
struct DigestTable<Value: AnyObject> {
    fileprivate struct Slot {
        var key: Digest256
        var value: Value?
    }

    fileprivate var slots: [Slot]
    private var mask: Int
    /// Number of entries.
    private(set) var count = 0

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(key: .zero, value: nil), count: size)
        mask = size - 1
    }

    private func home(_ key: Digest256) -> Int { Int(truncatingIfNeeded: key.firstWord) & mask }

    subscript(key: Digest256) -> Value? {
        var i = home(key)
        while let value = slots[i].value {
            if slots[i].key == key { return value }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Calls `body` with the value for `key` in place (no reference count taken for the
    /// lookup), or returns nil when there is none.
    @inline(__always)
    func withValue<Result>(for key: Digest256, _ body: (borrowing Value) -> Result) -> Result? {
        slots.withUnsafeBufferPointer { slots in
            var i = home(key)
            while slots[i].value != nil {
                if slots[i].key == key { return body(slots[i].value.unsafelyUnwrapped) }
                i = (i + 1) & mask
            }
            return nil
        }
    }

    /// Sets the value for `key`, replacing any.
    mutating func set(_ value: Value, for key: Digest256) {
        if (count + 1) * 2 > slots.count { grow() }
        var i = home(key)
        while slots[i].value != nil {
            if slots[i].key == key {
                slots[i].value = value
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = Slot(key: key, value: value)
        count += 1
    }

    /// Removes `key` if present.
    mutating func remove(_ key: Digest256) {
        var i = home(key)
        while slots[i].value != nil, slots[i].key != key { i = (i + 1) & mask }
        guard slots[i].value != nil else { return }
        // Backward shift: move later entries of the probe run into the hole when their home
        // slot lies cyclically at or before it.
        var j = i
        while true {
            j = (j + 1) & mask
            guard slots[j].value != nil else { break }
            let k = home(slots[j].key)
            let movable = i <= j ? (k <= i || k > j) : (k <= i && k > j)
            if movable {
                slots[i] = slots[j]
                i = j
            }
        }
        slots[i] = Slot(key: .zero, value: nil)
        count -= 1
    }

    /// Replaces every value with `transform(value)`; keys stay where they are.
    mutating func updateValues(_ transform: (Value) -> Value) {
        for i in slots.indices {
            if let value = slots[i].value { slots[i].value = transform(value) }
        }
    }

    /// Removes every entry.
    mutating func removeAll() {
        self = DigestTable()
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(key: .zero, value: nil), count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for slot in old { if let value = slot.value { set(value, for: slot.key) } }
    }
}

extension DigestTable: Sendable where Value: Sendable {}
extension DigestTable.Slot: Sendable where Value: Sendable {}
