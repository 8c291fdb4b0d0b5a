import Foundation
import JacoKernel

/// The storage conformance suite: every engine must pass every check. Checks are plain async
/// functions (as Vault's `ExerciseBackend`), so any test framework can run them; Jaco's own
/// tests run them with Swift Testing over every engine.
public struct StoreConformanceCheck: Sendable, CustomStringConvertible {
    /// What the check asserts, e.g. "Get of a missing key returns nil".
    public let name: String
    /// Whether the check needs data to survive a reopen.
    public let needsDurability: Bool
    /// Runs the check.
    public let run: @Sendable (any StoreFixture) async throws -> Void

    public var description: String { name }
}

/// The conformance checks.
public enum StoreConformance {
    /// Every check, in a stable order.
    public static let checks: [StoreConformanceCheck] = [
        check("Get of a missing key returns nil", missingGetReturnsNil),
        check("Put then get returns the bytes, including empty and binary values", putThenGet),
        check("Delete of a missing key succeeds", deleteOfMissingKeySucceeds),
        check("Create and modify indexes follow the writes", createAndModifyIndexes),
        check("A failed condition writes nothing", failedConditionWritesNothing),
        check("A commit that fails midway under an injected fault changes nothing", injectedFaultChangesNothing),
        check("Prefix scans return keys in byte order, respect start and limit, and walk in pages", prefixScansInOrder),
        check("The store index increases with every effective commit", indexIsMonotonic),
        check("A snapshot does not see later commits", snapshotIsIsolated),
        check("Concurrent readers see whole transactions while a writer commits", concurrentReadersDuringWrites),
        check("The change feed yields commits in order and resumes from any index", changeFeedOrderAndResume),
        check("The change feed delivers live commits", changeFeedLive),
        check("Data and index survive close and reopen", persistenceAcrossReopen, durable: true),
        check("The change feed resumes across a reopen", changeFeedAcrossReopen, durable: true),
        check("A closed store refuses work with 'closed'", closedStoreRefuses),
    ]

    private static func check(_ name: String, _ body: @escaping @Sendable (any Storage & FaultInjecting) async throws -> Void) -> StoreConformanceCheck {
        StoreConformanceCheck(name: name, needsDurability: false) { fixture in
            let store = try await fixture.open()
            do {
                try await body(store)
            } catch {
                try? await store.close()
                throw error
            }
            try? await store.close()
        }
    }

    private static func check(_ name: String, _ body: @escaping @Sendable (any StoreFixture) async throws -> Void, durable: Bool) -> StoreConformanceCheck {
        StoreConformanceCheck(name: name, needsDurability: durable, run: body)
    }

    // MARK: - Checks

    static func missingGetReturnsNil(_ store: any Storage & FaultInjecting) async throws {
        let value = try await store.read { try await $0.get("missing/key") }
        try expect(value == nil, "Get of a missing key should return nil", observed: "\(String(describing: value))")
    }

    static func putThenGet(_ store: any Storage & FaultInjecting) async throws {
        let binary = Data((0...255).map { UInt8($0) })
        try await store.commit(Transaction(writes: [.put("k/binary", binary), .put("k/empty", Data()), .put("k/text", Data("hello".utf8))]))
        let (b, e, t) = try await store.read { s in (try await s.get("k/binary"), try await s.get("k/empty"), try await s.get("k/text")) }
        try expect(b?.bytes == binary, "A binary value should round-trip", observed: "\(String(describing: b))")
        try expect(e?.bytes == Data(), "An empty value should be stored as empty, not missing", observed: "\(String(describing: e))")
        try expect(t?.bytes == Data("hello".utf8), "A text value should round-trip")
        try await store.commit(Transaction(writes: [.put("k/text", Data("again".utf8))]))
        let overwritten = try await store.read { try await $0.get("k/text") }
        try expect(overwritten?.bytes == Data("again".utf8), "A put should overwrite the previous value")
    }

    static func deleteOfMissingKeySucceeds(_ store: any Storage & FaultInjecting) async throws {
        let before = try await store.read { $0.index }
        let index = try await store.commit(Transaction(writes: [.delete("never/written")]))
        try expect(index == before, "Deleting only missing keys should not bump the index", observed: "\(before) -> \(index)")
        try await store.commit(Transaction(writes: [.put("d/x", Data("1".utf8))]))
        try await store.commit(Transaction(writes: [.delete("d/x")]))
        let value = try await store.read { try await $0.get("d/x") }
        try expect(value == nil, "A deleted key should be gone")
    }

    static func createAndModifyIndexes(_ store: any Storage & FaultInjecting) async throws {
        let first = try await store.commit(Transaction(writes: [.put("i/a", Data("1".utf8))]))
        let second = try await store.commit(Transaction(writes: [.put("i/a", Data("2".utf8)), .put("i/b", Data("3".utf8))]))
        let (a, b) = try await store.read { s in (try await s.get("i/a"), try await s.get("i/b")) }
        try expect(a?.createIndex == first && a?.modifyIndex == second, "A rewritten key keeps its create index and takes the new modify index", observed: "\(String(describing: a))")
        try expect(b?.createIndex == second && b?.modifyIndex == second, "A new key's create and modify index are its commit's", observed: "\(String(describing: b))")
    }

    static func failedConditionWritesNothing(_ store: any Storage & FaultInjecting) async throws {
        let index = try await store.commit(Transaction(writes: [.put("c/existing", Data("v".utf8))]))
        for condition in [Condition.absent("c/existing"), .modifiedAt("c/existing", index + 7), .modifiedAt("c/missing", index)] {
            do {
                try await store.commit(Transaction(conditions: [condition], writes: [.put("c/new", Data("x".utf8)), .delete("c/existing")]))
                try expect(false, "A commit whose condition \(condition) fails should throw 'conflict'")
            } catch let error as JacoError {
                try expect(error.code == .conflict, "A failed condition should throw 'conflict'", observed: "\(error)")
            }
        }
        let (new, existing, after) = try await store.read { s in (try await s.get("c/new"), try await s.get("c/existing"), s.index) }
        try expect(new == nil && existing != nil && after == index, "A conflicting commit should write nothing and keep the index", observed: "new=\(String(describing: new)) index=\(after)")
        let ok = try await store.commit(Transaction(conditions: [.modifiedAt("c/existing", index), .absent("c/new")], writes: [.put("c/new", Data("x".utf8))]))
        try expect(ok == index + 1, "A commit whose conditions hold should apply", observed: "index \(ok)")
    }

    static func injectedFaultChangesNothing(_ store: any Storage & FaultInjecting) async throws {
        let base = try await store.commit(Transaction(writes: [.put("f/keep", Data("original".utf8)), .put("f/doomed", Data("here".utf8))]))
        let writes: [Write] = [.put("f/keep", Data("changed".utf8)), .put("f/a", Data("a".utf8)), .delete("f/doomed"), .put("f/b", Data("b".utf8)), .put("f/c", Data("c".utf8))]
        let feed = store.changes(after: base)
        for fault in [StorageFault.failAfterWrites(3), .failAfterWrites(0), .failNextCommit] {
            store.injectFault(fault)
            do {
                try await store.commit(Transaction(writes: writes))
                try expect(false, "A commit under injected fault \(fault) should throw")
            } catch let error as JacoError {
                try expect(error.code == .storageFailure, "An injected fault should surface as 'storage_failure'", observed: "\(error)")
            }
            let (keep, doomed, a, b, index) = try await store.read { s in
                (try await s.get("f/keep"), try await s.get("f/doomed"), try await s.get("f/a"), try await s.get("f/b"), s.index)
            }
            try expect(keep?.bytes == Data("original".utf8) && doomed != nil && a == nil && b == nil && index == base,
                "A failed commit (\(fault)) should leave every key and the index as they were",
                observed: "keep=\(String(describing: keep)) doomed=\(String(describing: doomed)) a=\(String(describing: a)) index=\(index)")
        }
        let next = try await store.commit(Transaction(writes: [.put("f/after", Data("1".utf8))]))
        try expect(next == base + 1, "The commit after a failed one should take the next index", observed: "\(next)")
        var iterator = feed.makeAsyncIterator()
        let change = try await iterator.next()
        try expect(change?.index == next && change?.mutations.map(\.key) == ["f/after"], "The change feed should carry no trace of failed commits", observed: "\(String(describing: change))")
    }

    static func prefixScansInOrder(_ store: any Storage & FaultInjecting) async throws {
        let keys = ["p/b", "p/a", "p/ab", "p/a/1", "p/\u{e9}", "p/Z", "p0", "p", "q/a", "o/z", "p/a0"]
        try await store.commit(Transaction(writes: keys.map { .put($0, Data($0.utf8)) }))
        let expected = keys.filter { $0.hasPrefix("p/") }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let (all, tail, limited, empty) = try await store.read { s in
            (try await s.scan(prefix: "p/"), try await s.scan(prefix: "p/", startingAfter: "p/a0", limit: .max),
             try await s.scan(prefix: "p/", startingAfter: nil, limit: 2), try await s.scan(prefix: "nothing/"))
        }
        try expect(all.map(\.key) == expected, "A prefix scan should return exactly the prefixed keys in byte order", observed: "\(all.map(\.key))")
        try expect(all.allSatisfy { $0.value.bytes == Data($0.key.utf8) }, "A scan should return each key's value")
        try expect(tail.map(\.key) == Array(expected.drop { $0 != "p/a0" }.dropFirst()), "A scan should start after 'startingAfter'", observed: "\(tail.map(\.key))")
        try expect(limited.map(\.key) == Array(expected.prefix(2)), "A scan should stop at 'limit'", observed: "\(limited.map(\.key))")
        try expect(empty.isEmpty, "A scan of an unused prefix should be empty")
        let counts = try await store.read { s in (try await s.count(prefix: "p/"), try await s.count(prefix: "p"), try await s.count(prefix: "nothing/")) }
        if let all = counts.0 {
            try expect(all == expected.count && counts.1 == keys.filter { $0.hasPrefix("p") }.count && counts.2 == 0,
                "A count should be the number of keys a scan of the prefix returns", observed: "\(counts)")
        }

        // Walking in pages of 3, each page resuming after the last key of the one before, gives
        // every key once; the last page is short, and a scan after the last key is empty.
        var walked: [String] = []
        var cursor: String? = nil
        var pages = 0
        while true {
            let page = try await store.read { try await $0.scan(prefix: "p/", startingAfter: cursor, limit: 3) }
            walked += page.map(\.key)
            pages += 1
            guard page.count == 3, let last = page.last else { break }
            cursor = last.key
        }
        try expect(walked == expected, "Pages resumed after their last key should walk every key once, in order", observed: "\(walked)")
        try expect(pages == expected.count / 3 + 1, "The walk should end on a short page", observed: "\(pages) pages")
        let afterLast = try await store.read { try await $0.scan(prefix: "p/", startingAfter: expected.last, limit: 3) }
        try expect(afterLast.isEmpty, "A scan after the last key should be empty", observed: "\(afterLast.map(\.key))")

        // A count leaves nothing open that would hide later commits from later reads.
        if counts.0 != nil {
            try await store.commit(Transaction(writes: [.put("p/later", Data())]))
            let later = try await store.read { s in (try await s.count(prefix: "p/"), try await s.get("p/later")) }
            try expect(later.0 == expected.count + 1 && later.1 != nil, "Reads after a count should see later commits", observed: "\(later)")
        }
    }

    static func indexIsMonotonic(_ store: any Storage & FaultInjecting) async throws {
        var last = try await store.read { $0.index }
        for n in 0..<20 {
            let index = try await store.commit(Transaction(writes: [.put("m/\(n % 3)", Data("\(n)".utf8))]))
            try expect(index > last, "Each effective commit should return a greater index", observed: "\(last) then \(index)")
            let seen = try await store.read { $0.index }
            try expect(seen == index, "A snapshot after a commit should stand at its index", observed: "\(seen) vs \(index)")
            last = index
        }
    }

    static func snapshotIsIsolated(_ store: any Storage & FaultInjecting) async throws {
        let first = try await store.commit(Transaction(writes: [.put("s/x", Data("old".utf8))]))
        let (before, after, index) = try await store.read { snapshot in
            let before = try await snapshot.get("s/x")
            _ = try await store.commit(Transaction(writes: [.put("s/x", Data("new".utf8)), .put("s/y", Data("new".utf8))]))
            let after = (try await snapshot.get("s/x"), try await snapshot.scan(prefix: "s/"))
            return (before, after, snapshot.index)
        }
        try expect(before?.bytes == Data("old".utf8) && after.0?.bytes == Data("old".utf8) && after.1.count == 1 && index == first,
            "A snapshot should keep showing the data as of its index", observed: "x=\(String(describing: after.0)) scan=\(after.1.map(\.key)) index=\(index)")
        let now = try await store.read { try await $0.get("s/x") }
        try expect(now?.bytes == Data("new".utf8), "A new snapshot should see the commit")
    }

    static func concurrentReadersDuringWrites(_ store: any Storage & FaultInjecting) async throws {
        try await store.commit(Transaction(writes: [.put("r/left", Data("0".utf8)), .put("r/right", Data("0".utf8))]))
        let rounds = 150
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for n in 1...rounds {
                    let value = Data("\(n)".utf8)
                    try await store.commit(Transaction(writes: [.put("r/left", value), .put("r/right", value)]))
                }
            }
            for _ in 0..<4 {
                group.addTask {
                    var lastIndex: StoreIndex = 0
                    for _ in 0..<rounds {
                        let (left, right, index) = try await store.read { s in
                            (try await s.get("r/left")?.bytes, try await s.get("r/right")?.bytes, s.index)
                        }
                        try expect(left == right, "A reader should never see half of a transaction",
                            observed: "left=\(String(decoding: left ?? Data(), as: UTF8.self)) right=\(String(decoding: right ?? Data(), as: UTF8.self))")
                        try expect(index >= lastIndex, "A reader's successive snapshots should never go back", observed: "\(lastIndex) then \(index)")
                        lastIndex = index
                        await Task.yield()
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func changeFeedOrderAndResume(_ store: any Storage & FaultInjecting) async throws {
        let start = try await store.read { $0.index }
        var indexes: [StoreIndex] = []
        for n in 0..<5 {
            indexes.append(try await store.commit(Transaction(writes: [.put("feed/\(n)", Data("\(n)".utf8)), .delete("feed/\(n - 1)")])))
        }
        let all = try await collect(store.changes(after: start), count: 5)
        try expect(all.map(\.index) == indexes, "The feed should yield every commit in commit order", observed: "\(all.map(\.index)) vs \(indexes)")
        try expect(all[2].mutations == [Mutation(key: "feed/2", value: Data("2".utf8)), Mutation(key: "feed/1", value: nil)],
            "A change should list its puts and deletes in write order", observed: "\(all[2].mutations)")
        try expect(all[0].mutations.count == 1, "A delete of a missing key should not appear in the feed", observed: "\(all[0].mutations)")
        let resumed = try await collect(store.changes(after: indexes[2]), count: 2)
        try expect(resumed.map(\.index) == Array(indexes[3...]), "Resuming after an index should yield only later commits", observed: "\(resumed.map(\.index))")
    }

    static func changeFeedLive(_ store: any Storage & FaultInjecting) async throws {
        let start = try await store.read { $0.index }
        let feed = store.changes(after: start)
        let reader = Task { try await collect(feed, count: 3) }
        var indexes: [StoreIndex] = []
        for n in 0..<3 {
            try await Task.sleep(for: .milliseconds(5))
            indexes.append(try await store.commit(Transaction(writes: [.put("live/\(n)", Data())])))
        }
        let seen = try await reader.value
        try expect(seen.map(\.index) == indexes, "A subscriber should receive commits made after it subscribed", observed: "\(seen.map(\.index))")
    }

    static func persistenceAcrossReopen(_ fixture: any StoreFixture) async throws {
        let store = try await fixture.open()
        var index: StoreIndex = 0
        for n in 0..<10 {
            index = try await store.commit(Transaction(writes: [.put("keep/\(n)", Data("value \(n)".utf8))]))
        }
        try await store.commit(Transaction(writes: [.delete("keep/3")]))
        try await store.close()
        let reopened = try await fixture.open()
        let (entries, reopenedIndex) = try await reopened.read { s in (try await s.scan(prefix: "keep/"), s.index) }
        try expect(entries.count == 9 && entries.allSatisfy { $0.value.bytes == Data("value \($0.key.dropFirst(5))".utf8) },
            "Every committed key should survive a reopen, and deleted keys stay deleted", observed: "\(entries.map(\.key))")
        try expect(reopenedIndex == index + 1, "The index should survive a reopen", observed: "\(reopenedIndex) vs \(index + 1)")
        let next = try await reopened.commit(Transaction(writes: [.put("keep/next", Data())]))
        try expect(next == index + 2, "After a reopen the index should continue, never restart", observed: "\(next)")
        try await reopened.close()
    }

    static func changeFeedAcrossReopen(_ fixture: any StoreFixture) async throws {
        let store = try await fixture.open()
        let start = try await store.read { $0.index }
        var indexes: [StoreIndex] = []
        for n in 0..<4 { indexes.append(try await store.commit(Transaction(writes: [.put("log/\(n)", Data())]))) }
        try await store.close()
        let reopened = try await fixture.open()
        let changes = try await collect(reopened.changes(after: start + 1), count: 3)
        try expect(changes.map(\.index) == Array(indexes[1...]), "The change log should let a feed resume after a reopen", observed: "\(changes.map(\.index))")
        try await reopened.close()
    }

    static func closedStoreRefuses(_ store: any Storage & FaultInjecting) async throws {
        try await store.close()
        do {
            try await store.commit(Transaction(writes: [.put("x", Data())]))
            try expect(false, "A commit on a closed store should throw")
        } catch let error as JacoError {
            try expect(error.code == .closed, "A closed store should say 'closed'", observed: "\(error)")
        }
    }

    /// The first `count` changes of a feed, failing if they do not arrive within 10 seconds.
    static func collect(_ feed: ChangeFeed, count: Int) async throws -> [Change] {
        try await withThrowingTaskGroup(of: [Change]?.self) { group in
            group.addTask {
                var changes: [Change] = []
                for try await change in feed {
                    changes.append(change)
                    if changes.count == count { break }
                }
                return changes
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let changes = first else {
                throw ConformanceFailure(rule: "The change feed should deliver \(count) changes", observed: "nothing within 10 s")
            }
            return changes
        }
    }
}
