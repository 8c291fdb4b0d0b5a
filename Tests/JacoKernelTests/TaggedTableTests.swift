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

    @Test("Random inserts, updates and removals agree with a Dictionary", arguments: [false, true])
    func matchesDictionary(collisions: Bool) {
        var table = TaggedTable<Box>()
        var model: [Int: Int] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            if step == 10_000 { table.reserve(5_000) }  // a rehash midway keeps every entry findable
            let key = Int.random(in: 0..<400, using: &rng)
            let tag = Self.tag(key, collisions: collisions)
            if Bool.random(using: &rng) {
                table.set(Box(key: key, value: step), tag: tag) { $0.key == key }
                model[key] = step
            } else {
                let removed = table.remove(tag: tag) { $0.key == key }
                #expect(removed?.value == model[key], "key \(key)")
                model[key] = nil
            }
        }
        #expect(table.count == model.count)
        for key in 0..<400 {
            #expect(table.first(tag: Self.tag(key, collisions: collisions)) { $0.key == key }?.value == model[key], "key \(key)")
        }
        var seen: [Int: Int] = [:]
        table.forEach { seen[$0.key] = $0.value }
        #expect(seen == model)
    }
}
