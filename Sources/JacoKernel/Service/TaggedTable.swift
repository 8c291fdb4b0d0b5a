/// A hash table of objects that carry their own key, for the verification cache's digest →
/// token map (the verify path). A slot is 16 bytes, a 64-bit tag and a reference, so a probe
/// compares tags without reading the object; at most half full, a million entries cost ~34
/// bytes each (a `[String: Digest256]` cost ~100). ``ObjectTable`` is the 8-byte-slot kind. The caller gives the tag, already uniformly spread (a
/// digest's first word, a string's hash value: the table does not hash it again), and a match on
/// the object for the full key. Linear probing; deletion by backward shift (no tombstones).
struct TaggedTable<Value: AnyObject> {
    fileprivate struct Slot {
        var tag: UInt64
        var value: Value?
    }

    fileprivate var slots: [Slot]
    private var mask: Int
    /// Number of entries.
    private(set) var count = 0

    /// Creates an empty table with room for `capacity` entries before it grows.
    init(capacity: Int = 32) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(tag: 0, value: nil), count: size)
        mask = size - 1
    }

    private func home(_ tag: UInt64) -> Int { Int(truncatingIfNeeded: tag) & mask }

    /// The entry with `tag` for which `matches` holds, if any.
    @inline(__always)
    func first(tag: UInt64, where matches: (borrowing Value) -> Bool) -> Value? {
        withFirst(tag: tag) { matches($0) ? copy $0 : nil }
    }

    /// Calls `body` with each entry with `tag`, in place (no reference count taken for the
    /// lookup), until it returns a result: `body` checks the full key and returns nil for an
    /// entry whose key differs. Nil when no entry gave a result.
    @inline(__always)
    func withFirst<Result>(tag: UInt64, _ body: (borrowing Value) -> Result?) -> Result? {
        slots.withUnsafeBufferPointer { slots in
            var i = home(tag)
            // Not `while let`: binding the reference would retain and release it on every probe.
            while slots[i].value != nil {
                // Guaranteed for the call: the table holds it, so the caller need not retain it.
                if slots[i].tag == tag,
                    let result = Unmanaged.passUnretained(slots[i].value.unsafelyUnwrapped)._withUnsafeGuaranteedRef({ body($0) })
                {
                    return result
                }
                i = (i + 1) & mask
            }
            return nil
        }
    }

    /// Puts `value` in the slot of the entry with `tag` that `matches` (replacing it), or in a new one.
    mutating func set(_ value: Value, tag: UInt64, replacing matches: (Value) -> Bool) {
        if (count + 1) * 2 > slots.count { grow() }
        var i = home(tag)
        while let existing = slots[i].value {
            if slots[i].tag == tag, matches(existing) {
                slots[i].value = value
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = Slot(tag: tag, value: value)
        count += 1
    }

    /// Removes the entry with `tag` that `matches`; returns it, or nil when there is none.
    @discardableResult
    mutating func remove(tag: UInt64, where matches: (Value) -> Bool) -> Value? {
        var i = home(tag)
        while let existing = slots[i].value {
            if slots[i].tag == tag, matches(existing) { break }
            i = (i + 1) & mask
        }
        guard let removed = slots[i].value else { return nil }
        let mask = mask
        slots.withUnsafeMutableBufferPointer { slots in
            let last = BackwardShift.close(
                hole: i, mask: mask, isEmpty: { slots[$0].value == nil }, home: { Int(truncatingIfNeeded: slots[$0].tag) & mask }
            ) { from, to in slots[to] = slots[from] }
            slots[last] = Slot(tag: 0, value: nil)
        }
        count -= 1
        return removed
    }

    /// Calls `body` with every entry, in no particular order.
    func forEach(_ body: (Value) -> Void) {
        for slot in slots { if let value = slot.value { body(value) } }
    }

    /// Makes room for `capacity` entries at once (one rehash instead of one per doubling).
    mutating func reserve(_ capacity: Int) {
        var size = slots.count
        while size < capacity * 2 { size <<= 1 }
        if size > slots.count { rehash(to: size) }
    }

    private mutating func grow() { rehash(to: slots.count * 2) }

    private mutating func rehash(to size: Int) {
        let old = slots
        slots = Array(repeating: Slot(tag: 0, value: nil), count: size)
        mask = size - 1
        for slot in old where slot.value != nil {
            var i = home(slot.tag)
            while slots[i].value != nil { i = (i + 1) & mask }
            slots[i] = slot
        }
    }
}

extension TaggedTable: Sendable where Value: Sendable {}
extension TaggedTable.Slot: Sendable where Value: Sendable {}
