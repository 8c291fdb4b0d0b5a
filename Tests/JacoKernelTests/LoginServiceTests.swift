import Foundation
@testable import JacoKernel
import JacoTestKit
import MemoryStore
import Testing

/// The kernel's login service on the memory store, with an auth-method type that accepts any
/// credential (the real JWT type is tested end to end in EndToEndTests/LoginTests).
@Suite("Login service")
struct LoginServiceTests {
    static func kernel(maxTokens: Int = 10_000, ttl: TimeInterval = 600) async throws -> (Kernel, Principal) {
        var tokens = TokenSettings()
        tokens.maxLoginTokensPerMethod = maxTokens
        let kernel = try await Kernel.start(
            storage: MemoryStorePlugin.makeStore(), hasher: InProcessJaco.defaultHasher, acl: ACLSettings(minExpirationTTL: 0.2), tokens: tokens,
            authMethodTypes: [FixedIdentityType()])
        let bootstrap = try await kernel.tokens.bootstrap()
        let op = try kernel.tokens.verify(secret: bootstrap.secret)
        var method = AuthMethodRequest()
        (method.name, method.type, method.maxTokenTTL) = ("ci", "fixed", ttl)
        _ = try await kernel.login.writeAuthMethod(method, by: op)
        var rule = BindingRuleRequest()
        (rule.authMethod, rule.bindType, rule.bindName) = ("ci", "service", "svc-${value.team}")
        _ = try await kernel.login.writeBindingRule(id: nil, rule, by: op)
        return (kernel, op)
    }

    static func loginKeys(_ kernel: Kernel) async throws -> [String] {
        try await kernel.storage.read { try await $0.scan(prefix: KeySpace.loginTokenPrefix).map(\.key) }
    }

    @Test("Concurrent logins past the bound: exactly the bound succeed, the rest are rate_limited")
    func boundUnderConcurrency() async throws {
        let (kernel, _) = try await Self.kernel(maxTokens: 5)
        defer { Task { try? await kernel.shutdown() } }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { (try? await kernel.login.login(method: "ci", credential: "x")) != nil } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 5)
        #expect(try await Self.loginKeys(kernel).count == 5)
        await #expect(throws: JacoError.self) { try await kernel.login.login(method: "ci", credential: "x") }
    }

    @Test("The reaper and deleting the method remove login tokens with their entries; logout only for login tokens")
    func tokensGoWithTheirEntries() async throws {
        let (kernel, op) = try await Self.kernel(ttl: 0.3)
        defer { Task { try? await kernel.shutdown() } }
        let first = try await kernel.login.login(method: "ci", credential: "x")
        #expect(first.token.serviceIdentities.map(\.serviceName) == ["svc-web"])
        #expect(first.token.description == "token created via login" && first.token.local)
        // The kernel's reaper (every 0.1 s here) deletes it once it expires, entry included.
        let deadline = Date().addingTimeInterval(10)
        while try await !Self.loginKeys(kernel).isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await Self.loginKeys(kernel).isEmpty)
        #expect(try await kernel.acl.token(accessorID: first.token.accessorID, namespace: "*") == nil)

        let second = try await kernel.login.login(method: "ci", credential: "x")
        #expect(try await Self.loginKeys(kernel).count == 1)
        #expect(try await kernel.login.deleteAuthMethod(name: "ci", by: op))
        #expect(try await Self.loginKeys(kernel).isEmpty)
        #expect(try await kernel.acl.token(accessorID: second.token.accessorID, namespace: "*") == nil)
        #expect(try await kernel.login.bindingRules(after: nil).items.isEmpty)
        await #expect(throws: JacoError.self) { try await kernel.login.logout(op) }
    }
}
