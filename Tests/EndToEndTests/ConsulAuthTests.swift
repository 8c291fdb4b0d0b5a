import Foundation
import JacoKernel
import Testing

@Suite("Consul API permissions end to end")
struct ConsulAuthTests {
    /// A token linked to a new policy with `rules`; returns its secret.
    static func token(_ consul: ConsulClient, _ management: String, rules: String, name: String) async throws -> String {
        _ = try await ConsulTokenAPITests.policy(consul, management, name: name, rules: rules)
        let created = try await consul.put("/v1/acl/token", token: management, body: #"{"Policies": [{"Name": "\#(name)"}]}"#)
        return try #require(created.object["SecretID"] as? String)
    }

    @Test("Anonymous, acl:read, acl:write and management callers get what their rules allow")
    func matrix() async throws {
        try await withConsulDaemon { daemon, consul, management in
            let reader = try await Self.token(consul, management, rules: #"acl = "read""#, name: "reader")
            let writer = try await Self.token(consul, management, rules: #"{"acl": "write"}"#, name: "writer")
            let nothing = try await Self.token(consul, management, rules: #"key_prefix "" { policy = "write" }"#, name: "kv-only")
            let selfAccessor = { (secret: String) async throws -> String in
                try #require(try await consul.get("/v1/acl/token/self", token: secret).object["AccessorID"] as? String)
            }

            // (caller, may read, may write)
            let callers: [(String?, Bool, Bool)] = [(nil, false, false), (nothing, false, false), (reader, true, false), (writer, true, true), (management, true, true)]
            for (secret, mayRead, mayWrite) in callers {
                let accessor = if let secret { try await selfAccessor(secret) } else { BuiltIn.anonymousTokenID }
                let list = try await consul.get("/v1/acl/tokens", token: secret)
                #expect(list.status == (mayRead ? 200 : 403))
                // Consul's wording (acl/errors.go), with its own sentence for the anonymous token.
                func denial(_ permission: String) -> String {
                    secret == nil
                        ? "Permission denied: anonymous token lacks permission '\(permission)'. The anonymous token is used implicitly when a request does not specify a token."
                        : "Permission denied: token with AccessorID '\(accessor)' lacks permission '\(permission)'"
                }
                if !mayRead { #expect(list.body == denial("acl:read")) }
                let policies = try await consul.get("/v1/acl/policies", token: secret)
                #expect(policies.status == (mayRead ? 200 : 403))
                let create = try await consul.put("/v1/acl/token", token: secret, body: "{}")
                #expect(create.status == (mayWrite ? 200 : 403))
                if !mayWrite { #expect(create.body == denial("acl:write")) }
                if mayRead { #expect(!list.body.contains(management) && !list.body.contains(reader)) }

                // The same token with the jaco CLI: list needs acl:read, issue acl:write.
                if let secret {
                    let jacoList = try await daemon.jaco(["token", "list"], token: secret)
                    #expect(jacoList.status == (mayRead ? 0 : 1), "\(jacoList.stderr)")
                    if !mayRead { #expect(jacoList.stderr.hasPrefix("permission_denied:")) }
                    let jacoIssue = try await daemon.jaco(["token", "issue", "--name", "by-\(accessor.prefix(8))"], token: secret)
                    #expect(jacoIssue.status == (mayWrite ? 0 : 1), "\(jacoIssue.stderr)")
                }
            }

            // Unknown, malformed and deleted secrets are 'ACL not found'.
            for secret in ["8b1247ef-d172-4f99-b050-4dbe5d3df0cb", "not-a-token", SecretFormat.generate()] {
                let answer = try await consul.get("/v1/acl/tokens", token: secret)
                #expect(answer.status == 403 && answer.body == "ACL not found")
            }
            let noSecret = try await consul.get("/v1/acl/token/self")
            #expect(noSecret.status == 403 && noSecret.body == "ACL not found")

            // Linking acl:read to the anonymous token lets callers without a secret read.
            let anonymous = try await consul.put("/v1/acl/token/\(BuiltIn.anonymousTokenID)", token: management, body: #"{"Description": "Anonymous Token", "Policies": [{"Name": "reader"}]}"#)
            #expect(anonymous.status == 200, "\(anonymous.body)")
            #expect(try await consul.get("/v1/acl/tokens").status == 200)
            #expect(try await consul.put("/v1/acl/token", body: "{}").status == 403)
        }
    }

    @Test("A jaco token revoked by the CLI is refused by the Consul API")
    func revokedRefused() async throws {
        try await withConsulDaemon { daemon, consul, management in
            let issued = try await daemon.jaco(["token", "issue", "--name", "temp"], token: management)
            #expect(try await consul.get("/v1/acl/token/self", token: issued.lastWord).status == 200)
            #expect(try await daemon.jaco(["token", "revoke", "temp"], token: management).status == 0)
            let refused = try await consul.get("/v1/acl/token/self", token: issued.lastWord)
            #expect(refused.status == 403 && refused.body == "ACL not found")
        }
    }
}
