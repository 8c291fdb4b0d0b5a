import Foundation
@testable import JacoKernel
import JacoTestKit
import MemoryStore
import Testing

/// docs/audit-events.md documents each event type's payload keys; a run of every operation that
/// writes an event must match it, so the document cannot drift from the code.
@Suite("Audit event payloads match docs/audit-events.md")
struct AuditEventDocsTests {
    /// type → (keys always present, keys sometimes present), from the document's table.
    static func documented() throws -> [String: (always: Set<String>, sometimes: Set<String>)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/audit-events.md"), encoding: .utf8)
        // The keys are the backticked words outside parentheses (which hold their values).
        func keys(_ cell: Substring) -> Set<String> {
            let bare = cell.replacingOccurrences(of: #"\([^)]*\)"#, with: "", options: .regularExpression)
            return Set(bare.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
        }
        var table: [String: (Set<String>, Set<String>)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces)[...] }
            guard cells.count >= 6 else { continue }
            let type = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            table[type] = (keys(cells[3]), keys(cells[4]))
        }
        return table
    }

    @Test("Every type the kernel writes is documented, and every event of a full run has the documented keys")
    func payloadsMatch() async throws {
        let documented = try Self.documented()
        #expect(Set(documented.keys) == Set(AuditEventType.all), "documented: \(documented.keys.sorted()); kernel: \(AuditEventType.all.sorted())")

        let kernel = try await Kernel.start(
            storage: MemoryStorePlugin.makeStore(), hasher: InProcessJaco.defaultHasher, admission: AdmissionChain([GatesWeb()]),
            acl: ACLSettings(minExpirationTTL: 0.2), authMethodTypes: [FixedIdentityType()])
        defer { Task { try? await kernel.shutdown() } }
        let bootstrap = try await kernel.tokens.bootstrap()
        let op = try kernel.tokens.verify(secret: bootstrap.secret)
        // jaco's own token operations.
        _ = try await kernel.tokens.issue(identity: "admin", allowsPrivileged: true, ttl: 3600, by: op)
        _ = try await kernel.tokens.issue(identity: "bob", by: op)
        try await kernel.tokens.revoke(identity: "bob", by: op)
        _ = try await kernel.tokens.rotate(.identity("admin"), grace: 0, by: op)
        _ = try await kernel.tokens.rotate(.identity("admin"), grace: 600, by: op)
        let admin = try await kernel.tokens.rotate(.identity("admin"), grace: 0, force: true, by: op)
        let leaked = try await kernel.tokens.issue(identity: "leaky", by: op)
        _ = try await kernel.tokens.revokeLeaked(secrets: [leaked.secret])
        // The Consul API's.
        var policyRequest = PolicyRequest()
        policyRequest.name = "reader"
        policyRequest.rules = "acl = \"read\""
        let policy = try await kernel.acl.writePolicy(id: nil, policyRequest, by: op)
        _ = try await kernel.acl.writePolicy(id: policy.id, policyRequest, by: op)
        var roleRequest = RoleRequest()
        roleRequest.name = "readers"
        roleRequest.policies = [ACLLink(id: policy.id)]
        let role = try await kernel.acl.writeRole(id: nil, roleRequest, by: op)
        _ = try await kernel.acl.writeRole(id: role.id, roleRequest, by: op)
        var tokenRequest = TokenRequest()
        tokenRequest.policies = [ACLLink(id: policy.id)]
        tokenRequest.expirationTTL = 3600
        let consul = try await kernel.acl.createToken(tokenRequest, by: op)
        tokenRequest.expirationTTL = 0
        tokenRequest.roles = [ACLLink(id: role.id)]
        _ = try await kernel.acl.updateToken(accessorID: consul.token.accessorID, tokenRequest, by: op)
        let clone = try await kernel.acl.cloneToken(accessorID: consul.token.accessorID, description: "copy", by: op)
        _ = try await kernel.acl.deleteToken(accessorID: clone.token.accessorID, by: op)
        _ = try await kernel.acl.deleteRole(id: role.id, by: op)
        _ = try await kernel.acl.deletePolicy(id: policy.id, by: op)
        var short = TokenRequest()
        short.expirationTTL = 0.3
        _ = try await kernel.acl.createToken(short, by: op)
        // Auth methods, binding rules, login and logout.
        var methodRequest = AuthMethodRequest()
        (methodRequest.name, methodRequest.type, methodRequest.maxTokenTTL) = ("ci", "fixed", 600)
        _ = try await kernel.login.writeAuthMethod(methodRequest, by: op)
        _ = try await kernel.login.writeAuthMethod(methodRequest, by: op)
        var ruleRequest = BindingRuleRequest()
        (ruleRequest.authMethod, ruleRequest.bindType, ruleRequest.bindName) = ("ci", "service", "svc-${value.team}")
        let rule = try await kernel.login.writeBindingRule(id: nil, ruleRequest, by: op)
        _ = try await kernel.login.writeBindingRule(id: rule.record.id, ruleRequest, by: op)
        let loggedIn = try await kernel.login.login(method: "ci", credential: "anything")
        try await kernel.login.logout(try kernel.tokens.verify(secret: loggedIn.secret))
        _ = try await kernel.login.login(method: "ci", credential: "anything")
        _ = try await kernel.login.deleteBindingRule(id: rule.record.id, by: op)
        _ = try await kernel.login.deleteAuthMethod(name: "ci", by: op)
        // Failed authentications, tallied per listener.
        let throttle = kernel.authThrottle(listener: "grpc+tls://127.0.0.1:7400", limits: AuthThrottle.Limits())
        _ = try? throttle.verify(secret: "jaco_notatoken", from: "10.0.0.7") { secret throws(JacoError) in try kernel.tokens.verify(secret: secret) }
        try await kernel.auditAuthFailures()
        // Admission, certificates, and finally a restore.
        let privileged = try kernel.tokens.verify(secret: admin.secret)
        _ = try await kernel.deployments.apply(deployment: "shop", manifest: Array("web".utf8), by: privileged)
        _ = try await kernel.tokens.issueClientCertificate(name: "ci", days: 30, by: op) {
            IssuedClientCertificate(certificatePEM: "-", serial: "01", notAfter: Date().addingTimeInterval(86_400), caCertificatePEM: "-")
        }
        let deadline = Date().addingTimeInterval(20)
        while try await kernel.audit.events(types: [AuditEventType.tokenExpire], by: op).isEmpty, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        var snapshot = Data()
        _ = try await kernel.saveSnapshot(engine: "memory", by: op) { snapshot.append($0) }
        _ = try await kernel.restoreSnapshot(snapshot, by: op)

        let events = try await kernel.audit.events(by: op)
        #expect(Set(events.map(\.type)) == Set(AuditEventType.all), "not written: \(Set(AuditEventType.all).subtracting(events.map(\.type)).sorted())")
        for event in events {
            guard let keys = documented[event.type] else { continue }
            let present = Set(event.payload.keys)
            #expect(keys.always.isSubset(of: present), "\(event.type) #\(event.sequence) lacks \(keys.always.subtracting(present).sorted())")
            #expect(present.isSubset(of: keys.always.union(keys.sometimes)), "\(event.type) #\(event.sequence) has undocumented \(present.subtracting(keys.always.union(keys.sometimes)).sorted())")
        }
    }
}

/// An admission policy that finds one service, `web`, and gates it.
private struct GatesWeb: AdmissionPolicy {
    var name: String { "gates-web" }
    func validate(_ manifest: [UInt8]) throws(JacoError) -> AdmissionReview { AdmissionReview(services: ["web"], gatedServices: ["web"]) }
    func admit(_ review: AdmissionReview, for principal: Principal) throws(JacoError) {}
}

/// An auth-method type that accepts any credential as the same identity (unit tests only).
struct FixedIdentityType: AuthMethodType {
    let name = "fixed"
    func validate(_ method: AuthMethod) async throws {}
    func blankIdentity(for method: AuthMethod) throws -> VerifiedIdentity { VerifiedIdentity(values: ["team": ""]) }
    func verify(_ credential: String, for method: AuthMethod, modifyIndex: StoreIndex) async throws -> VerifiedIdentity {
        VerifiedIdentity(values: ["team": "web"])
    }
}
