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
        TaggedTableTests.exercise(TaggedTableTests.Operations(
            set: { box in table.set(box) { $0.key == box.key } },
            remove: { key in table.remove(tag: TaggedTableTests.tag(key, collisions: collisions)) { $0.key == key } },
            find: { key in table.first(tag: TaggedTableTests.tag(key, collisions: collisions)) { $0.key == key } },
            reserve: { table.reserve($0) },
            count: { table.count },
            forEach: { table.forEach($0) }))
    }
}
