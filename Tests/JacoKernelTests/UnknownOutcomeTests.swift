import Foundation
import JacoKernel
import JacoTestKit
import MemoryStore
import Testing

/// A store that, once armed, reports its next commit as unconfirmed (`outcome_unknown`),
/// after applying it or without applying it: what a shared store does when a connection drops
/// mid-call. A unit-test double over the real memory store.
final class UnconfirmingStore: Storage, Sendable {
    enum Mode { case applied, notApplied }
    let base: any Storage
    private let armed = NSLock()
    nonisolated(unsafe) private var mode: Mode?

    init(base: any Storage) { self.base = base }

    func arm(_ mode: Mode) { armed.withLock { self.mode = mode } }

    func read<R: Sendable>(_ body: (any StorageSnapshot) async throws -> R) async throws -> R { try await base.read(body) }
    func changes(after index: StoreIndex) -> ChangeFeed { base.changes(after: index) }
    func close() async throws { try await base.close() }

    func commit(_ transaction: Transaction) async throws -> StoreIndex {
        let mode = armed.withLock { () -> Mode? in defer { self.mode = nil }; return self.mode }
        switch mode {
        case .applied?:
            _ = try await base.commit(transaction)
            throw JacoError(.outcomeUnknown, "connection lost after sending")
        case .notApplied?:
            throw JacoError(.outcomeUnknown, "connection lost before the server saw it")
        case nil:
            return try await base.commit(transaction)
        }
    }
}

@Suite("Unconfirmed writes")
struct UnknownOutcomeTests {
    @Test("A write applied but not confirmed succeeds once; one not applied is planned again", arguments: [UnconfirmingStore.Mode.applied, .notApplied])
    func resolved(mode: UnconfirmingStore.Mode) async throws {
        let store = UnconfirmingStore(base: MemoryStorePlugin.makeStore())
        let kernel = try await Kernel.start(storage: store, hasher: InProcessJaco.defaultHasher)
        let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
        store.arm(mode)
        let alice = try await kernel.tokens.issue(identity: "alice", by: op)
        #expect(try kernel.tokens.verify(secret: alice.secret).identity == "alice")
        let list = try await kernel.tokens.listAll(by: op)
        #expect(list.filter { $0.identity == "alice" }.count == 1)
        let issues = try await kernel.audit.events(by: op).filter { $0.type == AuditEventType.tokenIssue }
        #expect(issues.count == 1)
        #expect(try await kernel.audit.verifyChain().isIntact)
        try await kernel.shutdown()
    }
}
