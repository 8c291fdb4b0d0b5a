@testable import JacoKernel
import Testing

@Suite("Tagged table")
struct TaggedTableTests {
    final class Box {
        let key: Int
        let value: Int
        init(key: Int, value: Int) {
            self.key = key
            self.value = value
        }
    }

    /// Tags that collide on purpose (few distinct values, and keys sharing one), so probe runs
    /// wrap, entries with equal tags are told apart by their key, and deletions shift entries back.
    static func tag(_ key: Int, collisions: Bool) -> UInt64 {
        collisions ? UInt64(key % 5) * 7 + 13 : UInt64(key) &* 0x9E37_79B9_7F4A_7C15
    }

    /// One table's operations, for ``exercise(_:)``: the cache's two table kinds share it.
    struct Operations {
        var set: (Box) -> Void
        var remove: (Int) -> Box?
        var find: (Int) -> Box?
        var reserve: (Int) -> Void
        var count: () -> Int
        var forEach: ((Box) -> Void) -> Void
    }

    /// Random inserts, updates and removals through `table`, checked against a Dictionary.
    static func exercise(_ table: Operations) {
        var model: [Int: Int] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            if step == 10_000 { table.reserve(5_000) }  // a rehash midway keeps every entry findable
            let key = Int.random(in: 0..<400, using: &rng)
            if Bool.random(using: &rng) {
                table.set(Box(key: key, value: step))
                model[key] = step
            } else {
                #expect(table.remove(key)?.value == model[key], "key \(key)")
                model[key] = nil
            }
        }
        #expect(table.count() == model.count)
        for key in 0..<400 {
            #expect(table.find(key)?.value == model[key], "key \(key)")
        }
        var seen: [Int: Int] = [:]
        table.forEach { seen[$0.key] = $0.value }
        #expect(seen == model)
    }

    @Test("Random inserts, updates and removals agree with a Dictionary", arguments: [false, true])
    func matchesDictionary(collisions: Bool) {
        var table = TaggedTable<Box>()
        Self.exercise(Operations(
            set: { box in table.set(box, tag: Self.tag(box.key, collisions: collisions)) { $0.key == box.key } },
            remove: { key in table.remove(tag: Self.tag(key, collisions: collisions)) { $0.key == key } },
            find: { key in table.first(tag: Self.tag(key, collisions: collisions)) { $0.key == key } },
            reserve: { table.reserve($0) },
            count: { table.count },
            forEach: { table.forEach($0) }))
    }
}
