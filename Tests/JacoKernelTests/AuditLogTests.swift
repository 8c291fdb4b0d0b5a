import Foundation
@testable import JacoKernel
import JacoTestKit
import Testing

@Suite("Audit log")
struct AuditLogTests {
    @Test("Each state change appends one event attributed to the caller, without secrets")
    func eventsAttributed() async throws {
        try await withJaco { jaco in
            let alice = try await jaco.kernel.tokens.issue(identity: "alice", allowsPrivileged: true, by: try jaco.operator)
            let asAlice = try jaco.kernel.tokens.verify(secret: alice.secret)
            let bob = try await jaco.kernel.tokens.issue(identity: "bob", by: asAlice)
            try await jaco.kernel.tokens.revoke(identity: "bob", by: asAlice)
            let events = try await jaco.kernel.audit.events(by: try jaco.operator)
            #expect(events.map(\.type) == ["cluster_bootstrap", "token_issue", "token_issue", "token_revoke"])
            #expect(events.map(\.identity) == ["bootstrap", "bootstrap", "alice", "alice"])
            #expect(events.map(\.sequence) == [1, 2, 3, 4])
            #expect(events[1].payload["identity"] == "alice")
            #expect(events[1].payload["allows_privileged"] == "true")
            let encoded = String(decoding: try JSONEncoder().encode(events), as: UTF8.self)
            for token in [alice, bob, jaco.bootstrap!] {
                #expect(!encoded.contains(token.secret))
                #expect(!encoded.contains(token.token.secretDigest.hex))
            }
            let onlyRevokes = try await jaco.kernel.audit.events(types: ["token_revoke"], by: try jaco.operator)
            #expect(onlyRevokes.count == 1)
            let later = try await jaco.kernel.audit.events(after: 2, limit: 1, by: try jaco.operator)
            #expect(later.map(\.sequence) == [3])
        }
    }

    @Test("`since` compares at the store's millisecond precision: an event later in the same millisecond matches")
    func sinceWithinAMillisecond() async throws {
        let eventTime = Date(milliseconds: 1_800_000_000_123)
        let jaco = try await InProcessJaco.start(clock: { eventTime })
        _ = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator)
        func issues(since: Double) async throws -> [String?] {
            try await jaco.kernel.audit.events(types: ["token_issue"], since: Date(timeIntervalSince1970: since), by: try jaco.operator)
                .map { $0.payload["identity"] }
        }
        // The call was asked 0.7 ms into the millisecond the event was stamped with.
        #expect(try await issues(since: 1_800_000_000.1237) == ["alice"])
        #expect(try await issues(since: 1_800_000_000.124) == [])
        #expect(try await issues(since: 1_800_000_000.122) == ["alice"])
        try await jaco.stop()
    }

    @Test("An untouched chain verifies; each event links to the one before")
    func chainIntact() async throws {
        try await withJaco { jaco in
            for n in 0..<5 { _ = try await jaco.kernel.tokens.issue(identity: "u\(n)", by: try jaco.operator) }
            let report = try await jaco.kernel.audit.verifyChain()
            #expect(report.isIntact)
            #expect(report.checked == 6)
            let events = try await jaco.kernel.audit.events(by: try jaco.operator)
            #expect(events[0].previousHash == .zero)
            for (earlier, later) in zip(events, events.dropFirst()) { #expect(later.previousHash == earlier.hash) }
        }
    }

    @Test("A modified event is named as the first broken link")
    func tamperedPayload() async throws {
        try await withJaco { jaco in
            for n in 0..<5 { _ = try await jaco.kernel.tokens.issue(identity: "u\(n)", by: try jaco.operator) }
            try await rewrite(jaco, sequence: 3) { $0.payload["identity"] = "mallory" }
            let report = try await jaco.kernel.audit.verifyChain()
            #expect(report.firstBrokenLink?.sequence == 3)
            #expect(report.firstBrokenLink?.reason.contains("modified") == true)
            #expect(report.checked == 2)
        }
    }

    @Test("A rehashed forgery still breaks the link to the next event")
    func rehashedForgery() async throws {
        try await withJaco { jaco in
            for n in 0..<5 { _ = try await jaco.kernel.tokens.issue(identity: "u\(n)", by: try jaco.operator) }
            let hasher = jaco.kernel.hasher
            try await rewrite(jaco, sequence: 2) { event in
                event.identity = "mallory"
                event.hash = hasher.contentHash(event.canonicalBytes)
            }
            let report = try await jaco.kernel.audit.verifyChain()
            #expect(report.firstBrokenLink?.sequence == 3)
            #expect(report.firstBrokenLink?.reason.contains("does not link") == true)
        }
    }

    @Test("A deleted event is named as missing")
    func deletedEvent() async throws {
        try await withJaco { jaco in
            for n in 0..<5 { _ = try await jaco.kernel.tokens.issue(identity: "u\(n)", by: try jaco.operator) }
            try await jaco.store.commit(Transaction(writes: [.delete(auditKey(4))]))
            let report = try await jaco.kernel.audit.verifyChain()
            #expect(report.firstBrokenLink?.sequence == 4)
            #expect(report.firstBrokenLink?.reason.contains("missing") == true)
        }
    }

    @Test("Removing the newest events is detected through the head record")
    func truncatedTail() async throws {
        try await withJaco { jaco in
            for n in 0..<5 { _ = try await jaco.kernel.tokens.issue(identity: "u\(n)", by: try jaco.operator) }
            try await jaco.store.commit(Transaction(writes: [.delete(auditKey(6)), .delete(auditKey(5))]))
            let report = try await jaco.kernel.audit.verifyChain()
            #expect(report.firstBrokenLink?.sequence == 5)
            #expect(report.firstBrokenLink?.reason.contains("removed") == true)
        }
    }
}

func auditKey(_ sequence: UInt64) -> String {
    let hex = String(sequence, radix: 16)
    return "a/" + String(repeating: "0", count: 16 - hex.count) + hex
}

/// Rewrites one stored audit event behind the kernel's back, as an attacker with disk access would.
func rewrite(_ jaco: InProcessJaco, sequence: UInt64, _ change: @Sendable (inout AuditEvent) -> Void) async throws {
    let stored = try await jaco.store.read { try await $0.get(auditKey(sequence)) }
    var event = try AuditEvent(decoding: try #require(stored).bytes, key: auditKey(sequence))
    change(&event)
    try await jaco.store.commit(Transaction(writes: [.put(auditKey(sequence), event.encode())]))
}
