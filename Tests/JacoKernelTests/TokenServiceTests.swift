import Foundation
import JacoKernel
import JacoTestKit
import Testing

@Suite("Token service")
struct TokenServiceTests {
    @Test("Issue returns a secret that verifies as the named identity")
    func issueAndVerify() async throws {
        try await withJaco { jaco in
            let issued = try await jaco.kernel.tokens.issue(identity: "ci-deploy", allowsPrivileged: true, by: try jaco.operator)
            #expect(issued.secret.hasPrefix("jaco_"))
            let principal = try jaco.kernel.tokens.verify(secret: issued.secret)
            #expect(principal.identity == "ci-deploy")
            #expect(principal.allowsPrivileged)
            #expect(principal.accessorID == issued.token.accessorID)
            let plain = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator)
            #expect(try jaco.kernel.tokens.verify(secret: plain.secret).allowsPrivileged == false)
        }
    }

    @Test("The cache counts successful verifies, with and without an expiry to check; failures are not counted")
    func verifiesCounted() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator  // (a verify itself)
            let plain = try await jaco.kernel.tokens.issue(identity: "counted", by: op)
            let expiring = try await jaco.kernel.tokens.issue(identity: "counted-ttl", ttl: 3600, by: op)
            let before = jaco.kernel.cache.verifiedCount
            for _ in 0..<3 { _ = try jaco.kernel.tokens.verify(secret: plain.secret) }
            for _ in 0..<2 { _ = try jaco.kernel.tokens.verify(secret: expiring.secret) }
            #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: "jaco_wrong") }
            _ = try await jaco.kernel.tokens.revoke(identity: "counted", by: op)
            #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: plain.secret) }
            #expect(jaco.kernel.cache.verifiedCount - before == 5)
        }
    }

    @Test("A batch issues every identity in one commit, audited one by one; a clash stores none")
    func batchIssue() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            let events = try await jaco.kernel.audit.events(by: op).count
            let batch = try await jaco.kernel.tokens.issue(identities: ["b1", "b2", "b3"], by: op)
            #expect(batch.map(\.token.identity) == ["b1", "b2", "b3"])
            for issued in batch { #expect(try jaco.kernel.tokens.verify(secret: issued.secret).identity == issued.token.identity) }
            let audit = try await jaco.kernel.audit.events(by: op).dropFirst(events)
            #expect(audit.map(\.type) == Array(repeating: "token_issue", count: 3))
            #expect(try await jaco.kernel.audit.verifyChain().isIntact)

            let clash = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.tokens.issue(identities: ["b4", "b2"], by: op) }
            #expect(clash?.code == .duplicateIdentity)
            let twice = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.tokens.issue(identities: ["b5", "b5"], by: op) }
            #expect(twice?.code == .validationFailed)
            #expect(try await jaco.kernel.tokens.listAll(by: op).compactMap(\.identity).filter { $0.hasPrefix("b") && $0 != "bootstrap" }.sorted() == ["b1", "b2", "b3"])
        }
    }

    @Test("A token is superseded while a newer one holds its identity; deleting the newer one makes it current again")
    func supersededFollowsTheHolder() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            let first = try await jaco.kernel.tokens.issue(identity: "app", by: op)
            try await jaco.kernel.tokens.revoke(identity: "app", by: op)
            let second = try await jaco.kernel.tokens.issue(identity: "app", by: op)
            func superseded() async throws -> [String: Bool] {
                let rows = try await jaco.kernel.tokens.listAll(by: op).filter { $0.identity == "app" }
                return Dictionary(uniqueKeysWithValues: rows.map { ($0.accessorID, $0.superseded) })
            }
            #expect(try await superseded() == [first.token.accessorID: true, second.token.accessorID: false])
            #expect(try await jaco.kernel.acl.deleteToken(accessorID: second.token.accessorID, by: op))
            #expect(try await superseded() == [first.token.accessorID: false])
        }
    }

    @Test("The bootstrap token is an operator without the privileged flag")
    func bootstrapToken() async throws {
        try await withJaco { jaco in
            let principal = try jaco.operator
            #expect(principal.identity == "bootstrap")
            #expect(principal.isManagement)
            #expect(!principal.allowsPrivileged)
        }
    }

    @Test("Bootstrap runs once; a second attempt fails 'already_initialized'")
    func bootstrapOnce() async throws {
        try await withJaco { jaco in
            let error = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.tokens.bootstrap() }
            #expect(error?.code == .alreadyInitialized)
            let tokens = try await jaco.kernel.tokens.listAll(by: try jaco.operator)
            // The bootstrap token and the anonymous token bootstrap creates beside it.
            #expect(tokens.map(\.accessorID).contains(BuiltIn.anonymousTokenID))
            #expect(tokens.count == 2)
        }
    }

    @Test("Before bootstrap, issue fails 'cluster_uninitialized'")
    func uninitialized() async throws {
        try await withJaco(initialized: false) { jaco in
            let initialized = try await jaco.kernel.tokens.isInitialized()
            #expect(!initialized)
            let error = await #expect(throws: JacoError.self) {
                _ = try await jaco.kernel.tokens.issue(identity: "alice", by: .system("test"))
            }
            #expect(error?.code == .clusterUninitialized)
        }
    }

    @Test("A duplicate identity fails 'duplicate_identity' and changes nothing")
    func duplicateIdentity() async throws {
        try await withJaco { jaco in
            let first = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator)
            let error = await #expect(throws: JacoError.self) {
                _ = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator)
            }
            #expect(error?.code == .duplicateIdentity)
            #expect(error?.message.contains("alice") == true)
            #expect(try await jaco.kernel.tokens.listAll(by: try jaco.operator).count == 3)
            #expect(try jaco.kernel.tokens.verify(secret: first.secret).identity == "alice")
        }
    }

    @Test("The next verify after revoke returns fails 'token_revoked'; the record is kept")
    func revoke() async throws {
        try await withJaco { jaco in
            let issued = try await jaco.kernel.tokens.issue(identity: "ci-deploy", by: try jaco.operator)
            _ = try jaco.kernel.tokens.verify(secret: issued.secret)
            let revoked = try await jaco.kernel.tokens.revoke(identity: "ci-deploy", by: try jaco.operator)
            #expect(revoked.revokedAt != nil)
            let error = #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: issued.secret) }
            #expect(error?.code == .tokenRevoked)
            #expect(error?.message.contains("'ci-deploy' was revoked at") == true)
            let listed = try await jaco.kernel.tokens.listAll(by: try jaco.operator).first { $0.identity == "ci-deploy" }
            #expect(listed?.revokedAt == revoked.revokedAt)
            // Revoking again changes nothing.
            let again = try await jaco.kernel.tokens.revoke(identity: "ci-deploy", by: try jaco.operator)
            #expect(again.revokedAt == revoked.revokedAt)
        }
    }

    @Test("Revoking an unknown identity fails 'not_found'")
    func revokeUnknown() async throws {
        try await withJaco { jaco in
            let error = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.tokens.revoke(identity: "nobody", by: try jaco.operator) }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("nobody") == true)
        }
    }

    @Test("Unknown, malformed and mistyped secrets fail 'token_invalid' with the reason", arguments: [
        ("", "empty"),
        ("hunter2", "does not start with"),
        ("jaco_tooShort", "characters, expected"),
    ])
    func invalidSecrets(secret: String, reason: String) async throws {
        try await withJaco { jaco in
            let error = #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: secret) }
            #expect(error?.code == .tokenInvalid)
            #expect(error?.message.contains(reason) == true)
        }
    }

    @Test("A one-character typo is caught by the checksum; an unknown well-formed secret is 'token_invalid'")
    func typoAndUnknown() async throws {
        try await withJaco { jaco in
            let issued = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator)
            var bytes = Array(issued.secret.utf8)
            bytes[10] = bytes[10] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            let typo = #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: String(decoding: bytes, as: UTF8.self)) }
            #expect(typo?.code == .tokenInvalid)
            #expect(typo?.message.contains("checksum") == true)
            let unknown = #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: SecretFormat.generate()) }
            #expect(unknown?.code == .tokenInvalid)
            #expect(unknown?.message.contains("no token has this secret") == true)
        }
    }

    @Test("Identities are validated", arguments: ["", "-dash-first", "has space", "local", String(repeating: "x", count: 129), "émile"])
    func invalidIdentity(identity: String) async throws {
        try await withJaco { jaco in
            let error = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.tokens.issue(identity: identity, by: try jaco.operator) }
            #expect(error?.code == .validationFailed)
        }
    }

    @Test("A caller without management rights is refused 'permission_denied'")
    func permissionDenied() async throws {
        try await withJaco { jaco in
            let nobody = Principal(accessorID: "x", identity: "reader", policyIDs: [], allowsPrivileged: false, acl: .none)
            let error = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.tokens.issue(identity: "alice", by: nobody) }
            #expect(error?.code == .permissionDenied)
            #expect(error?.message.contains("acl:write") == true)
        }
    }

    @Test("List shows every token in accessor-ID order, and never a digest or a secret")
    func listHidesSecrets() async throws {
        try await withJaco { jaco in
            var issued: [IssuedToken] = []
            for name in ["carol", "alice", "bob"] { issued.append(try await jaco.kernel.tokens.issue(identity: name, by: try jaco.operator)) }
            let list = try await jaco.kernel.tokens.listAll(by: try jaco.operator)
            #expect(Set(list.map(\.identity)) == [nil, "bootstrap", "carol", "alice", "bob"])
            #expect(list.count == 5)
            #expect(list.map(\.accessorID) == list.map(\.accessorID).sorted())
            let encoded = String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
            for token in issued {
                #expect(!encoded.contains(token.secret))
                #expect(!encoded.contains(token.token.secretDigest.hex))
            }
        }
    }

    @Test("A failed write changes nothing: no token, no audit event")
    func failedWriteChangesNothing() async throws {
        try await withJaco { jaco in
            let before = try await jaco.kernel.audit.events(by: try jaco.operator).count
            jaco.store.injectFault(.failAfterWrites(2))
            let error = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator) }
            #expect(error?.code == .storageFailure)
            #expect(try await jaco.kernel.tokens.listAll(by: try jaco.operator).map(\.identity) == [nil, "bootstrap"])
            #expect(try await jaco.kernel.audit.events(by: try jaco.operator).count == before)
            #expect(try await jaco.kernel.audit.verifyChain().isIntact)
            // The identity is still free.
            _ = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator)
        }
    }

    @Test("A second kernel on the same store sees issues and revokes through the change feed")
    func secondKernelFollowsFeed() async throws {
        try await withJaco { jaco in
            let follower = try await Kernel.start(storage: jaco.store, hasher: jaco.kernel.hasher)
            let issued = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator)
            try await eventually { (try? follower.tokens.verify(secret: issued.secret))?.identity == "alice" }
            try await jaco.kernel.tokens.revoke(identity: "alice", by: try jaco.operator)
            try await eventually {
                do { _ = try follower.tokens.verify(secret: issued.secret); return false } catch let error as JacoError { return error.code == .tokenRevoked } catch { return false }
            }
            try await follower.shutdown()
        }
    }

    @Test("A kernel started on a full store loads every token, shares equal link lists among them and keeps last-used times")
    func startupLoad() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            let issued = try await jaco.kernel.tokens.issue(identities: (0..<25_000).map { "load-\($0)" }, by: op)
            _ = try jaco.kernel.tokens.verify(secret: issued[7].secret)
            #expect(try await jaco.kernel.tokens.flushLastUsed() >= 1)
            // A second kernel loads the store from scratch (more than two pages of tokens).
            let loaded = try await Kernel.start(storage: jaco.store, hasher: jaco.kernel.hasher)
            #expect(loaded.cache.count == jaco.kernel.cache.count && loaded.cache.count >= issued.count)
            let first = try loaded.tokens.verify(secret: issued[0].secret)
            let last = try loaded.tokens.verify(secret: issued[issued.count - 1].secret)
            #expect(first.identity == "load-0" && last.identity == "load-24999")
            #expect(first.policyIDs == last.policyIDs && !first.policyIDs.isEmpty)
            let sharing = first.policyIDs.withUnsafeBufferPointer { a in last.policyIDs.withUnsafeBufferPointer { $0.baseAddress == a.baseAddress } }
            #expect(sharing, "tokens linked to the same policies should share one list in the cache")
            #expect(loaded.cache.lastUsed(accessorID: issued[7].token.accessorID) != nil)
            #expect(loaded.cache.lastUsed(accessorID: issued[8].token.accessorID) == nil)
            try await loaded.shutdown()
        }
    }

    @Test("Concurrent issues all succeed with distinct identities and an intact audit chain")
    func concurrentIssues() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            let secrets = try await withThrowingTaskGroup(of: String.self) { group in
                for n in 0..<40 { group.addTask { try await jaco.kernel.tokens.issue(identity: "user-\(n)", by: op).secret } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(secrets).count == 40)
            for secret in secrets { _ = try jaco.kernel.tokens.verify(secret: secret) }
            let report = try await jaco.kernel.audit.verifyChain()
            #expect(report.isIntact)
            #expect(report.checked == 41)
        }
    }
}

/// Polls `condition` for up to five seconds.
func eventually(_ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("condition did not become true within 5 s")
}

/// Runs `body` against a fresh in-process kernel and stops it afterwards, whatever happens.
func withJaco(initialized: Bool = true, _ body: (InProcessJaco) async throws -> Void) async throws {
    let jaco = try await InProcessJaco.start(initialized: initialized)
    do {
        try await body(jaco)
    } catch {
        try? await jaco.stop()
        throw error
    }
    try await jaco.stop()
}

@Suite("Built-ins")
struct BuiltInTests {
    @Test("Bootstrap stores the global-management policy under Consul's well-known ID")
    func globalManagementSeeded() async throws {
        try await withJaco { jaco in
            let policy = try await jaco.kernel.tokens.policy(id: "00000000-0000-0000-0000-000000000001")
            #expect(policy?.name == "global-management")
            #expect(policy?.rules.contains("acl = \"write\"") == true)
            let bootstrap = try jaco.operator
            #expect(bootstrap.policyIDs == [policy?.id])
        }
    }
}
