@testable import JacoKernel
import Testing

@Suite("Object table")
struct ObjectTableTests {
    typealias Box = TaggedTableTests.Box

    /// Colliding tags (see TaggedTableTests): probe runs wrap and removals shift entries back.
    enum CollidingKey: ObjectTableKey {
        static func tag(of box: Box) -> UInt64 { TaggedTableTests.tag(box.key, collisions: true) }
    }

    enum SpreadKey: ObjectTableKey {
        static func tag(of box: Box) -> UInt64 { TaggedTableTests.tag(box.key, collisions: false) }
    }

    @Test("Random inserts, updates and removals agree with a Dictionary, with spread and colliding tags")
    func matchesDictionary() {
        check(ObjectTable<SpreadKey>(), collisions: false)
        check(ObjectTable<CollidingKey>(), collisions: true)
    }

    private func check<Key: ObjectTableKey>(_ empty: ObjectTable<Key>, collisions: Bool) where Key.Value == Box {
        var table = empty
        var model: [Int: Int] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            if step == 10_000 { table.reserve(5_000) }  // a rehash midway keeps every entry findable
            let key = Int.random(in: 0..<400, using: &rng)
            if Bool.random(using: &rng) {
                table.set(Box(key: key, value: step)) { $0.key == key }
                model[key] = step
            } else {
                let removed = table.remove(tag: TaggedTableTests.tag(key, collisions: collisions)) { $0.key == key }
                #expect(removed?.value == model[key], "key \(key)")
                model[key] = nil
            }
        }
        #expect(table.count == model.count)
        for key in 0..<400 {
            #expect(table.first(tag: TaggedTableTests.tag(key, collisions: collisions)) { $0.key == key }?.value == model[key], "key \(key)")
        }
        var seen: [Int: Int] = [:]
        table.forEach { seen[$0.key] = $0.value }
        #expect(seen == model)
    }
}
