import Foundation
import JacoKernel
import NIOHTTP1
import Testing

/// Consul's behaviour at the edges of the ACL API, each case ported from the Consul source
/// named beside it, over real HTTPS against the real daemon.
@Suite("Consul API edges end to end")
struct ConsulEdgeTests {
    @Test("Before bootstrap: the anonymous denial and an unknown token are worded as Consul words them; BootstrapSecret chooses the secret")
    func bootstrap() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let consul = try ConsulClient(base: daemon.httpBase, caCertificate: daemon.caCertificate)
        defer { Task { try? await consul.shutdown() } }

        // api/acl_test.go TestAPI_ACLBootstrap.
        let anonymous = try await consul.get("/v1/acl/tokens")
        #expect(anonymous.status == 403)
        #expect(anonymous.body == "Permission denied: anonymous token lacks permission 'acl:read'. The anonymous token is used implicitly when a request does not specify a token.")
        let root = try await consul.get("/v1/acl/tokens", token: "4bc5ad63-0b1f-4d44-a9a7-1d8c0d2f8a11")
        #expect(root.status == 403)
        #expect(root.body == "ACL system must be bootstrapped before making any requests that require authorization: ACL not found")

        // agent/acl_endpoint.go ACLBootstrap (Consul 1.14+: BootstrapSecret).
        let notUUID = try await consul.put("/v1/acl/bootstrap", body: #"{"BootstrapSecret": "root"}"#)
        #expect(notUUID.status == 400, "\(notUUID.body)")
        #expect(notUUID.body.contains("Invalid bootstrap secret"), "\(notUUID.body)")
        let chosen = "7c1a4e52-5b1d-4f2b-9a0e-3d6f1e2c4b77"
        let made = try await consul.put("/v1/acl/bootstrap", body: #"{"BootstrapSecret": "\#(chosen)"}"#)
        #expect(made.status == 200, "\(made.body)")
        #expect(made.object["SecretID"] as? String == chosen)
        let tokens = try await consul.get("/v1/acl/tokens", token: chosen)
        #expect(tokens.objects.count == 2)  // the management token and the anonymous token
        #expect(tokens.header("X-Consul-Default-ACL-Policy") == "deny")
    }

    @Test("Read-modify-write: a token read (SecretID <hidden>) and PUT back is updated, as consul acl token update does")
    func readModifyWrite() async throws {
        try await withConsulDaemon { _, consul, management in
            // api/acl_test.go TestAPI_ACLToken_CreateUpdate; command/acl/token/update.
            let created = try await consul.put("/v1/acl/token", token: management, body: #"{"Description": "token created", "Policies": [{"Name": "global-management"}]}"#)
            let accessor = try #require(created.object["AccessorID"] as? String)
            let secret = try #require(created.object["SecretID"] as? String)
            var read = try await consul.get("/v1/acl/token/\(accessor)", token: management).object
            #expect(read["SecretID"] as? String == "<hidden>")
            read["Description"] = "updated"
            let body = String(decoding: try JSONSerialization.data(withJSONObject: read), as: UTF8.self)
            let updated = try await consul.put("/v1/acl/token/\(accessor)", token: management, body: body)
            #expect(updated.status == 200, "\(updated.body)")
            #expect(updated.object["Description"] as? String == "updated")
            #expect(try await consul.get("/v1/acl/token/self", token: secret).status == 200)
            let withoutSecret = try await consul.put("/v1/acl/token/\(accessor)", token: management, body: #"{"Description": "again"}"#)
            #expect(withoutSecret.status == 200, "\(withoutSecret.body)")
            // A different secret is still refused.
            let changed = try await consul.put("/v1/acl/token/\(accessor)", token: management, body: #"{"SecretID": "0e1c0f8e-4a52-4b7b-8f0e-2b7d9c1a5e33"}"#)
            #expect(changed.status == 400)
        }
    }

    @Test("Unknown fields are a 400 naming them; a missing role is an empty 404; missing names and IDs, wrong methods and conflicting filters get Consul's answers")
    func edges() async throws {
        try await withConsulDaemon { _, consul, management in
            // lib/json.go DecodeJSON (DisallowUnknownFields), through agent/acl_endpoint.go.
            for (path, body, message) in [
                ("/v1/acl/token", #"{"Policy": [{"Name": "global-management"}]}"#, #"Bad request: Token decoding failed: json: unknown field "Policy""#),
                ("/v1/acl/policy", #"{"Name": "p", "Rulez": ""}"#, #"Bad request: Policy decoding failed: json: unknown field "Rulez""#),
                ("/v1/acl/role", #"{"Name": "r", "Policys": []}"#, #"Bad request: Role decoding failed: json: unknown field "Policys""#),
            ] {
                let answer = try await consul.put(path, token: management, body: body)
                #expect(answer.status == 400 && answer.body == message, "\(path): \(answer.status) \(answer.body)")
            }
            // agent/consul/acl_endpoint.go PolicySet / RoleSet.
            #expect(try await consul.put("/v1/acl/policy", token: management, body: "{}").body.contains("Invalid Policy: no Name is set"))
            #expect(try await consul.put("/v1/acl/role", token: management, body: "{}").body.contains("Invalid Role: no Name is set"))

            // agent/acl_endpoint.go ACLRoleRead: a missing role is a 404 with no body.
            let missing = try await consul.get("/v1/acl/role/9d2c7b0a-1e3f-4a5b-8c6d-7e8f9a0b1c2d", token: management)
            #expect(missing.status == 404 && missing.body.isEmpty, "\(missing.status) \(missing.body)")
            #expect(try await consul.get("/v1/acl/role/name/nobody", token: management).status == 404)

            // agent/acl_endpoint.go ACLTokenCRUD, ACLPolicyCRUD, ACLRoleCRUD: missing IDs.
            for (method, path, noun) in [(HTTPMethod.GET, "/v1/acl/token/", "token"), (.DELETE, "/v1/acl/policy/", "policy"), (.GET, "/v1/acl/role/", "role")] {
                let answer = try await consul.send(method, path, token: management)
                #expect(answer.status == 400 && answer.body == "Bad request: Missing \(noun) ID", "\(path): \(answer.status) \(answer.body)")
            }
            // agent/http.go wrap: a method the path does not take is MethodNotAllowedError, 405
            // with Allow (OPTIONS first); OPTIONS is 200 with the same header.
            let wrong = try await consul.send(.POST, "/v1/acl/token/9d2c7b0a-1e3f-4a5b-8c6d-7e8f9a0b1c2d", token: management)
            #expect(wrong.status == 405 && wrong.body == "method POST not allowed", "\(wrong.status) \(wrong.body)")
            #expect(wrong.header("Allow") == "OPTIONS,GET,PUT,DELETE")
            let create = try await consul.send(.POST, "/v1/acl/token", token: management, body: "{}")
            #expect(create.status == 405 && create.header("Allow") == "OPTIONS,PUT")
            for path in ["/v1/acl/bootstrap", "/v1/status/leader", "/v1/jaco/revoke-leaked", "/v1/acl/role/name/web"] {
                let trace = try await consul.send(.TRACE, path)
                #expect(trace.status == 405 && trace.body == "method TRACE not allowed", "TRACE \(path): \(trace.status) \(trace.body)")
            }
            let options = try await consul.send(.OPTIONS, "/v1/acl/tokens")
            #expect(options.status == 200 && options.header("Allow") == "OPTIONS,GET" && options.body.isEmpty, "\(options.status) \(options.body)")

            // agent/consul/state/acl.go aclTokenList: one filter at a time.
            let both = try await consul.get("/v1/acl/tokens?policy=\(BuiltIn.globalManagementPolicyID)&servicename=web", token: management)
            #expect(both.status == 400 && both.body == "can only filter by one of policy, role, serviceName, or methodName at a time", "\(both.body)")

            // agent/http.go parseTokenInternal: ?token= wins over X-Consul-Token.
            let queryWins = try await consul.send(.GET, "/v1/acl/tokens?token=not-a-token", token: management)
            #expect(queryWins.status == 403, "\(queryWins.status)")
            let queryGood = try await consul.send(.GET, "/v1/acl/tokens?token=\(management)", token: "not-a-token")
            #expect(queryGood.status == 200, "\(queryGood.status)")

            // agent/structs/acl.go: the builtin global-read-only policy (Consul 1.16+), fixed
            // like global-management (agent/consul/acl_endpoint.go PolicySet, PolicyDelete).
            let readOnly = try await consul.get("/v1/acl/policy/00000000-0000-0000-0000-000000000002", token: management)
            #expect(readOnly.status == 200 && readOnly.object["Name"] as? String == "global-read-only", "\(readOnly.body)")
            let renamed = try await consul.put("/v1/acl/policy/00000000-0000-0000-0000-000000000002", token: management, body: #"{"Name": "everything"}"#)
            #expect(renamed.status == 400 && renamed.body.contains("Changing the Name for the builtin global-read-only policy is not permitted"), "\(renamed.body)")
            #expect(try await consul.delete("/v1/acl/policy/00000000-0000-0000-0000-000000000002", token: management).status == 403)
            // A token linked to it may read, not write.
            let reader = try await consul.put("/v1/acl/token", token: management, body: #"{"Policies": [{"Name": "global-read-only"}]}"#)
            let readerSecret = try #require(reader.object["SecretID"] as? String, "\(reader.body)")
            #expect(try await consul.get("/v1/acl/tokens", token: readerSecret).status == 200)
            #expect(try await consul.put("/v1/acl/token", token: readerSecret, body: "{}").status == 403)

            // agent/acl_endpoint.go ACLTokenGet with ?expanded: the policies and roles in full.
            let role = try await consul.put("/v1/acl/role", token: management, body: #"{"Name": "readers", "Policies": [{"Name": "global-read-only"}]}"#)
            let roleID = try #require(role.object["ID"] as? String, "\(role.body)")
            let member = try await consul.put("/v1/acl/token", token: management, body: #"{"Roles": [{"ID": "\#(roleID)"}]}"#)
            let memberID = try #require(member.object["AccessorID"] as? String)
            let expanded = try await consul.get("/v1/acl/token/\(memberID)?expanded=true", token: management)
            #expect(expanded.status == 200)
            #expect((expanded.object["ExpandedRoles"] as? [[String: Any]])?.first?["Name"] as? String == "readers", "\(expanded.body)")
            #expect((expanded.object["ExpandedPolicies"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } == ["global-read-only"])
            #expect(expanded.object["AgentACLDefaultPolicy"] as? String == "deny")
            #expect(expanded.object["AccessorID"] as? String == memberID)
            let plain = try await consul.get("/v1/acl/token/\(memberID)", token: management)
            #expect(plain.object["ExpandedPolicies"] == nil)

            // Templated policies grant rights Jaco does not model: an empty catalogue.
            let templates = try await consul.get("/v1/acl/templated-policies", token: management)
            #expect(templates.status == 200 && templates.body == "{}", "\(templates.body)")

            // agent/acl_endpoint.go ACLReplicationStatus on a datacenter that does not replicate.
            let replication = try await consul.get("/v1/acl/replication", token: management)
            #expect(replication.status == 200)
            #expect(replication.object["Enabled"] as? Bool == false)
            #expect(replication.object["SourceDatacenter"] as? String == "")
        }
    }
}
