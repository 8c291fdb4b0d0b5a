import Foundation
@testable import JacoKernel
import JacoTestKit
import MemoryStore
import Synchronization
import Testing

/// A memory store whose commits take a while and are counted, so writes pile up behind one in
/// flight as they do behind an fsync.
private final class SlowCommitStore: Storage {
    let base = MemoryStorePlugin.makeStore()
    let commits = Mutex(0)
    /// Refuse the next commit that carries more than this many writes (a batch, not one write).
    let refuseBatchOver = Mutex<Int?>(nil)
    let delay: Duration

    init(delay: Duration) { self.delay = delay }

    func read<R: Sendable>(_ body: (any StorageSnapshot) async throws -> R) async throws -> R { try await base.read(body) }
    func commit(_ transaction: Transaction) async throws -> StoreIndex {
        try await Task.sleep(for: delay)
        commits.withLock { $0 += 1 }
        let refuse = refuseBatchOver.withLock { limit -> Bool in
            guard let over = limit, transaction.writes.count > over else { return false }
            limit = nil
            return true
        }
        if refuse { throw JacoError(.storageFailure, "refused batch") }
        return try await base.commit(transaction)
    }
    func changes(after index: StoreIndex) -> ChangeFeed { base.changes(after: index) }
    func close() async throws { try await base.close() }
}

@Suite("Group commit")
struct GroupCommitTests {
    fileprivate static func start(_ store: SlowCommitStore) async throws -> (Kernel, Principal) {
        let kernel = try await Kernel.start(storage: store, hasher: InProcessJaco.defaultHasher)
        let bootstrap = try await kernel.tokens.bootstrap()
        return (kernel, try kernel.tokens.verify(secret: bootstrap.secret))
    }

    @Test("Writes that arrive during a commit share the next one; each gets its own result, and the audit chain is one chain")
    func concurrentWritesShareCommits() async throws {
        let store = SlowCommitStore(delay: .milliseconds(20))
        let (kernel, op) = try await Self.start(store)
        defer { Task { try? await kernel.shutdown() } }
        let before = store.commits.withLock { $0 }
        let issued = try await withThrowingTaskGroup(of: IssuedToken.self) { group in
            for n in 0..<40 { group.addTask { try await kernel.tokens.issue(identity: "ci-\(n)", by: op) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let commits = store.commits.withLock { $0 } - before
        #expect(issued.count == 40 && Set(issued.map(\.token.accessorID)).count == 40)
        #expect(commits < 20, "40 concurrent issues took \(commits) commits")
        for token in issued { #expect(try kernel.tokens.verify(secret: token.secret).identity == token.token.identity) }
        let events = try await kernel.audit.events(by: op)
        #expect(events.map(\.sequence) == Array(1...UInt64(41)))
        #expect(Set(events.dropFirst().compactMap { $0.payload["identity"] }) == Set((0..<40).map { "ci-\($0)" }))
        #expect(try await kernel.audit.verifyChain().isIntact)
    }

    @Test("A write that fails in planning fails alone: the same identity twice in one batch gives one token and one duplicate_identity")
    func failingWriteDoesNotFailBatchMates() async throws {
        let store = SlowCommitStore(delay: .milliseconds(20))
        let (kernel, op) = try await Self.start(store)
        defer { Task { try? await kernel.shutdown() } }
        let outcomes = await withTaskGroup(of: (String, JacoError.Code?).self) { group in
            for name in ["a", "dup", "b", "dup", "c", "dup"] {
                group.addTask {
                    do {
                        _ = try await kernel.tokens.issue(identity: name, by: op)
                        return (name, nil)
                    } catch let error as JacoError { return (name, error.code) } catch { return (name, .storageFailure) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0.0 == "dup" && $0.1 == nil }.count == 1)
        #expect(outcomes.filter { $0.0 == "dup" && $0.1 == .duplicateIdentity }.count == 2)
        #expect(outcomes.filter { $0.0 != "dup" }.allSatisfy { $0.1 == nil })
        #expect(try await kernel.audit.events(types: ["token_issue"], by: op).count == 4)
        #expect(try await kernel.audit.verifyChain().isIntact)
    }

    @Test("A batch the engine refuses is retried one write at a time: nothing is lost and nothing is applied twice")
    func refusedBatchRetriedAlone() async throws {
        let store = SlowCommitStore(delay: .milliseconds(20))
        let (kernel, op) = try await Self.start(store)
        defer { Task { try? await kernel.shutdown() } }
        // Hold a commit in flight so the next ones queue up into one batch (more writes than
        // one issue's five), which the engine refuses.
        store.refuseBatchOver.withLock { $0 = 5 }
        async let first = kernel.tokens.issue(identity: "first", by: op)
        try await Task.sleep(for: .milliseconds(5))
        let rest = try await withThrowingTaskGroup(of: String.self) { group in
            for n in 0..<8 { group.addTask { try await kernel.tokens.issue(identity: "r\(n)", by: op).token.identity! } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        _ = try await first
        #expect(Set(rest) == Set((0..<8).map { "r\($0)" }))
        let issues = try await kernel.audit.events(types: ["token_issue"], by: op)
        #expect(issues.count == 9, "\(issues.map { $0.payload["identity"] ?? "" })")
        #expect(store.refuseBatchOver.withLock { $0 } == nil, "no batch was refused")
        #expect(try await kernel.audit.verifyChain().isIntact)
    }

    @Test("The overlay a batch plans on shows earlier batch-mates' puts and deletes in gets and in scans, page by page")
    func overlayScans() async throws {
        let store = MemoryStorePlugin.makeStore()
        try await store.commit(Transaction(writes: ["k/1", "k/3", "k/5", "k/7"].map { .put($0, Data($0.utf8)) }))
        try await store.read { snapshot in
            let overlay = OverlaySnapshot(over: snapshot)
            try await overlay.apply([.put("k/2", Data("two".utf8)), .delete("k/3"), .put("k/8", Data("eight".utf8)), .put("x", Data())])
            #expect(try await overlay.get("k/3") == nil)
            #expect(try await overlay.get("k/2")?.bytes == Data("two".utf8))
            #expect(try await overlay.scan(prefix: "k/").map(\.key) == ["k/1", "k/2", "k/5", "k/7", "k/8"])
            var keys: [String] = []
            var after: String? = nil
            while true {
                let page = try await overlay.scan(prefix: "k/", startingAfter: after, limit: 2)
                keys += page.map(\.key)
                guard let last = page.last, page.count == 2 else { break }
                after = last.key
            }
            #expect(keys == ["k/1", "k/2", "k/5", "k/7", "k/8"])
            let pending = try #require(try await overlay.get("k/2"))
            #expect(try await overlay.holds(.modifiedAt("k/2", pending.modifyIndex)))
            #expect(try await overlay.holds(.absent("k/3")))
            #expect(try await !overlay.holds(.absent("k/8")))
        }
    }

    @Test("Merging: a key written twice keeps its last write, once, also within one write's plan; conditions are not repeated")
    func mergeKeepsLastWrite() {
        func member(_ writes: [Write]) -> BatchMember {
            BatchMember(request: PendingWrite(plan: { _ in throw CancellationError() }, deliver: { _ in }), transaction: Transaction(writes: writes), result: 0, tokens: [], types: [])
        }
        let (one, two, three) = (Data("1".utf8), Data("2".utf8), Data("3".utf8))
        let lone = GroupCommit.merge([member([.put("a", one), .put("b", two)])], conditionsChecked: [[.absent("a")]])
        #expect(lone == Transaction(conditions: [.absent("a")], writes: [.put("a", one), .put("b", two)]))
        let repeated = GroupCommit.merge([member([.put("a", one), .put("b", two), .put("a", three)])], conditionsChecked: [[.absent("a"), .absent("a")]])
        #expect(repeated == Transaction(conditions: [.absent("a")], writes: [.put("b", two), .put("a", three)]))
        let pair = GroupCommit.merge([member([.put("a", one), .put("h", one)]), member([.put("a", two), .delete("b")])], conditionsChecked: [[.absent("a")], [.absent("a")]])
        #expect(pair == Transaction(conditions: [.absent("a")], writes: [.put("h", one), .put("a", two), .delete("b")]))
    }
}
