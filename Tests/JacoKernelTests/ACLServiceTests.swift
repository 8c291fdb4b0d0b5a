import Foundation
import JacoKernel
import JacoTestKit
import Testing

@Suite("ACL rules")
struct ACLRulesTests {
    @Test("The acl rule is read from HCL and JSON; other rules are ignored", arguments: [
        ("acl = \"read\"", ACLLevel.read),
        ("# comment\nacl=\"write\"\nkey_prefix \"\" { policy = \"read\" }", .write),
        ("key_prefix \"acl\" {\n  acl = \"write\"\n}\nacl = \"deny\"", .deny),
        ("service \"web\" { policy = \"write\" }", ACLLevel.none),
        ("{\"acl\": \"read\", \"node_prefix\": {\"\": {\"policy\": \"read\"}}}", .read),
        ("", ACLLevel.none),
    ])
    func parses(rules: String, level: ACLLevel) throws {
        #expect(try ACLRules.aclLevel(in: rules) == level)
    }

    @Test("Bad rules fail validation_failed naming the problem", arguments: [
        ("acl = \"admin\"", "invalid acl policy \"admin\""),
        ("acl = write", "quoted string"),
        ("key_prefix \"\" {", "unbalanced"),
        ("{\"acl\": 3}", "must be a string"),
        ("{not json", "not valid JSON"),
    ])
    func rejects(rules: String, message: String) {
        let error = #expect(throws: JacoError.self) { try ACLRules.aclLevel(in: rules) }
        #expect(error?.code == .validationFailed)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test("Deny beats write beats read")
    func precedence() {
        #expect(max(ACLLevel.read, .write, .deny) == .deny)
        #expect(max(ACLLevel.none, .read) == .read)
    }

    @Test("Go durations parse and print as Go does")
    func durations() throws {
        #expect(try GoDuration.parse("90s") == 90)
        #expect(try GoDuration.parse("1h30m") == 5400)
        #expect(try GoDuration.parse("1.5h") == 5400)
        #expect(try GoDuration.parse("300ms") == 0.3)
        #expect(GoDuration.format(86400) == "24h0m0s")
        #expect(GoDuration.format(60) == "1m0s")
        #expect(GoDuration.format(1.5) == "1.5s")
        #expect(throws: JacoError.self) { try GoDuration.parse("5 minutes") }
        #expect(throws: JacoError.self) { try GoDuration.parse("10") }
        #expect(throws: JacoError.self) { try GoDuration.parse("1d") }
    }
}

@Suite("ACL service")
struct ACLServiceTests {
    @Test("Rights follow the acl rule of linked policies, directly and through roles, at once")
    func rightsFollowPolicies() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            var readPolicy = PolicyRequest()
            readPolicy.name = "acl-read"
            readPolicy.rules = "acl = \"read\""
            let policy = try await jaco.kernel.acl.writePolicy(id: nil, readPolicy, by: op)
            var request = TokenRequest()
            request.policies = [ACLLink(name: "acl-read")]
            let reader = try await jaco.kernel.acl.createToken(request, by: op)
            #expect(reader.token.policyIDs == [policy.id])
            var principal = try jaco.kernel.tokens.verify(secret: reader.secret)
            #expect(principal.holds(.aclRead) && !principal.holds(.aclWrite))
            #expect(principal.identity == nil)

            // A role that links a write policy grants write to a token linking the role.
            var writePolicy = PolicyRequest()
            writePolicy.name = "acl-write"
            writePolicy.rules = "{\"acl\": \"write\"}"
            _ = try await jaco.kernel.acl.writePolicy(id: nil, writePolicy, by: op)
            var roleRequest = RoleRequest()
            roleRequest.name = "operators"
            roleRequest.policies = [ACLLink(name: "acl-write")]
            let role = try await jaco.kernel.acl.writeRole(id: nil, roleRequest, by: op)
            var withRole = TokenRequest()
            withRole.roles = [ACLLink(id: role.id)]
            let writer = try await jaco.kernel.acl.createToken(withRole, by: op)
            #expect(try jaco.kernel.tokens.verify(secret: writer.secret).holds(.aclWrite))

            // Editing the policy changes the reader's rights on the next verify.
            readPolicy.rules = "acl = \"deny\""
            _ = try await jaco.kernel.acl.writePolicy(id: policy.id, readPolicy, by: op)
            principal = try jaco.kernel.tokens.verify(secret: reader.secret)
            #expect(!principal.holds(.aclRead))

            // A reader cannot write.
            let denied = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.createToken(TokenRequest(), by: principal) }
            #expect(denied?.code == .permissionDenied)
        }
    }

    @Test("Links by unknown name or ID fail naming them, and nothing is stored")
    func unknownLinks() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            let before = try await jaco.kernel.acl.tokens(matching: TokenFilter()).count
            var request = TokenRequest()
            request.policies = [ACLLink(name: "no-such-policy")]
            let byName = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.createToken(request, by: op) }
            #expect(byName?.message == "No such ACL policy with name \"no-such-policy\"")
            request.policies = []
            request.roles = [ACLLink(id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
            let byID = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.createToken(request, by: op) }
            #expect(byID?.message == "No such ACL role with ID \"3f2504e0-4f89-11d3-9a0c-0305e82c3301\"")
            #expect(try await jaco.kernel.acl.tokens(matching: TokenFilter()).count == before)
        }
    }

    @Test("Update keeps immutable fields, and names the one a request tried to change")
    func immutableFields() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            var request = TokenRequest()
            request.description = "first"
            request.expirationTTL = 3600
            let created = try await jaco.kernel.acl.createToken(request, by: op)
            let id = created.token.accessorID

            var update = TokenRequest()
            update.description = "second"
            update.secretID = created.secret
            update.expirationTime = created.token.expirationTime
            let updated = try await jaco.kernel.acl.updateToken(accessorID: id, update, by: op)
            #expect(updated.description == "second")
            #expect(try jaco.kernel.tokens.verify(secret: created.secret).accessorID == id)

            for (change, field) in [
                ({ (r: inout TokenRequest) in r.secretID = SecretFormat.generate() }, "SecretID"),
                ({ (r: inout TokenRequest) in r.local = true }, "Local"),
                ({ (r: inout TokenRequest) in r.expirationTTL = 120 }, "ExpirationTime"),
                ({ (r: inout TokenRequest) in r.expirationTime = Date().addingTimeInterval(7200) }, "ExpirationTime"),
                ({ (r: inout TokenRequest) in r.accessorID = UUID().uuidString.lowercased() }, "Accessor ID"),
            ] {
                var bad = TokenRequest()
                change(&bad)
                let error = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.updateToken(accessorID: id, bad, by: op) }
                #expect(error?.code == .validationFailed)
                #expect(error?.message.contains(field) == true, "\(error?.message ?? "")")
            }
            #expect(try await jaco.kernel.acl.token(accessorID: id)?.record.description == "second")
        }
    }

    @Test("Expiration bounds are enforced; expired tokens never verify and the reaper deletes them")
    func expiry() async throws {
        let jaco = try await InProcessJaco.start(acl: ACLSettings(minExpirationTTL: 0.2))
        defer { Task { try? await jaco.stop() } }
        let op = try jaco.operator
        var tooLong = TokenRequest()
        tooLong.expirationTTL = 25 * 3600
        let long = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.createToken(tooLong, by: op) }
        #expect(long?.message.hasPrefix("ExpirationTime cannot be more than 24h0m0s in the future") == true)
        var both = TokenRequest()
        both.expirationTTL = 60
        both.expirationTime = Date().addingTimeInterval(120)
        let conflicting = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.createToken(both, by: op) }
        #expect(conflicting?.message == "Token Expiration TTL and Expiration Time cannot both be set")

        var short = TokenRequest()
        // Long enough that a loaded 2-core machine verifies it before it expires.
        short.expirationTTL = 2
        let created = try await jaco.kernel.acl.createToken(short, by: op)
        #expect(try jaco.kernel.tokens.verify(secret: created.secret).accessorID == created.token.accessorID)
        // Wait on the token table instead of sleeping a guess: the reaper's delete moves it.
        var index = jaco.kernel.cache.index(of: .tokens)
        while try await jaco.kernel.acl.token(accessorID: created.token.accessorID, namespace: "*") != nil
            || jaco.kernel.cache.expiredAccessorIDs(at: .distantFuture).contains(created.token.accessorID)
        {
            index = await jaco.kernel.cache.waitForChange(of: .tokens, after: index, timeout: .seconds(5))
        }
        // Deleted, its secret still fails as expired, with the time (the cache remembers it).
        let error = #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: created.secret) }
        #expect(error?.code == .tokenExpired)
        #expect(error?.message.contains("expired at") == true)
        let events = try await jaco.kernel.audit.events(by: op)
        #expect(events.last?.type == AuditEventType.tokenExpire)
        #expect(events.last?.payload["accessor_id"] == created.token.accessorID)
    }

    @Test("A blocking wait returns when the resource changes, and at the timeout otherwise")
    func blockingWait() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            let start = jaco.kernel.cache.index(of: .tokens)
            async let woken = jaco.kernel.cache.waitForChange(of: .tokens, after: start, timeout: .seconds(60))
            // A policy write does not touch the token table; a token write does.
            var policy = PolicyRequest()
            policy.name = "p1"
            _ = try await jaco.kernel.acl.writePolicy(id: nil, policy, by: op)
            #expect(jaco.kernel.cache.index(of: .tokens) == start)
            _ = try await jaco.kernel.acl.createToken(TokenRequest(), by: op)
            #expect(await woken > start)
            let now = jaco.kernel.cache.index(of: .tokens)
            let timedOut = await jaco.kernel.cache.waitForChange(of: .tokens, after: now, timeout: .milliseconds(50))
            #expect(timedOut == now)
        }
    }

    @Test("Delete removes the token and its secret; built-ins and the caller's own token are protected")
    func delete() async throws {
        try await withJaco { jaco in
            let op = try jaco.operator
            let created = try await jaco.kernel.acl.createToken(TokenRequest(), by: op)
            #expect(try await jaco.kernel.acl.deleteToken(accessorID: created.token.accessorID, by: op))
            #expect(try await !jaco.kernel.acl.deleteToken(accessorID: created.token.accessorID, by: op))
            #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: created.secret) }
            await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.deleteToken(accessorID: BuiltIn.anonymousTokenID, by: op) }
            await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.deleteToken(accessorID: op.accessorID, by: op) }
            await #expect(throws: JacoError.self) { _ = try await jaco.kernel.acl.deletePolicy(id: BuiltIn.globalManagementPolicyID, by: op) }
            #expect(try await jaco.kernel.audit.verifyChain().isIntact)
        }
    }
}
