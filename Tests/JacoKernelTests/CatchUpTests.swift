import Foundation
@testable import JacoKernel
import JacoTestKit
import MemoryStore
import Synchronization
import Testing

/// A token issued on another daemon of a shared store verifies at once, before the change feed
/// brings it (``TokenService/catchUp(after:secret:)``).
@Suite("Verify catches up with a shared store")
struct CatchUpTests {
    @Test("A secret issued elsewhere verifies once the cache caught up; an unknown or mistyped one fails without waiting")
    func catchUp() async throws {
        let base = MemoryStorePlugin.makeStore()
        let issuer = try await Kernel.start(storage: base, hasher: InProcessJaco.defaultHasher)
        let bootstrap = try await issuer.tokens.bootstrap()
        let shared = GatedSharedStore(base)
        let verifier = try await Kernel.start(storage: shared, hasher: InProcessJaco.defaultHasher)
        #expect(try verifier.tokens.verify(secret: bootstrap.secret).identity == "bootstrap")

        shared.holdChanges(true)
        let alice = try await issuer.tokens.issue(identity: "alice", by: try issuer.tokens.verify(secret: bootstrap.secret))
        let missed = #expect(throws: JacoError.self) { try verifier.tokens.verify(secret: alice.secret) }
        #expect(missed?.code == .tokenInvalid)
        // The feed is held back for 2 s at most; released after 50 ms, the wait succeeds.
        let release = Task {
            try await Task.sleep(for: .milliseconds(50))
            shared.holdChanges(false)
        }
        #expect(await verifier.tokens.catchUp(after: missed!, secret: alice.secret))
        #expect(try verifier.tokens.verify(secret: alice.secret).identity == "alice")
        try await release.value

        // Caught up: a well-formed secret nobody has is not waited for; a malformed one never.
        let unknown = SecretFormat.generate()
        let typo = String(alice.secret.dropLast()) + (alice.secret.last == "A" ? "B" : "A")
        for secret in [unknown, typo] {
            let failure = #expect(throws: JacoError.self) { try verifier.tokens.verify(secret: secret) }
            let started = ContinuousClock.now
            #expect(await verifier.tokens.catchUp(after: failure!, secret: secret) == false)
            #expect(ContinuousClock.now - started < TokenService.catchUpLimit, "waited for the feed although the cache was current")
        }
        #expect(await verifier.tokens.catchUp(after: JacoError(.tokenRevoked, "x"), secret: alice.secret) == false)

        try await verifier.shutdown()
        try? await issuer.shutdown()
    }
}

/// A store other daemons "share": forwards to `base`, reports itself shared, and can hold its
/// change feed back, as a daemon whose watch lags would see.
final class GatedSharedStore: Storage, ReachabilityReporting {
    let base: any Storage
    private let held = Atomic<Bool>(false)

    init(_ base: any Storage) { self.base = base }

    /// While true, changes wait before reaching the feed's reader.
    func holdChanges(_ hold: Bool) { held.store(hold, ordering: .relaxed) }

    var isReachable: Bool { true }
    var denyVerifiesWhenUnreachable: Bool { false }

    func read<R: Sendable>(_ body: (any StorageSnapshot) async throws -> R) async throws -> R { try await base.read(body) }
    func commit(_ transaction: Transaction) async throws -> StoreIndex { try await base.commit(transaction) }
    func close() async throws {}  // the base belongs to the other kernel

    func changes(after index: StoreIndex) -> ChangeFeed {
        let base = base
        return ChangeFeed(stream: AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await change in base.changes(after: index) {
                        while self.held.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(1)) }
                        continuation.yield(change)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        })
    }
}
