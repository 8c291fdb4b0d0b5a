import Foundation
import JacoKernel
import Testing

/// Consul's token API document's sample payloads, through the real daemon over HTTPS.
@Suite("Consul token API end to end")
struct ConsulTokenAPITests {
    /// Creates a policy and returns its ID.
    static func policy(_ consul: ConsulClient, _ token: String, name: String, rules: String = "") async throws -> String {
        let answer = try await consul.put("/v1/acl/policy", token: token, body: #"{"Name": "\#(name)", "Rules": \#(String(reflecting: rules))}"#)
        #expect(answer.status == 200, "\(answer.body)")
        return try #require(answer.object["ID"] as? String)
    }

    static func linkNames(_ object: [String: Any], _ field: String = "Policies") -> [String] {
        (object[field] as? [[String: Any]] ?? []).compactMap { $0["Name"] as? String }
    }

    @Test("Create, read, self, update, clone, delete and list with the documented samples")
    func samplesRoundTrip() async throws {
        try await withConsulDaemon(config: "sqlite.toml") { _, consul, management in
            let node1Write = try await Self.policy(consul, management, name: "node1-write")
            _ = try await Self.policy(consul, management, name: "node-read")
            _ = try await Self.policy(consul, management, name: "service-read")

            // Create: the sample payload, with the sample's policy ID replaced by one that exists here.
            let createPayload = """
                {
                  "Description": "Agent token for 'node1'",
                  "Policies": [
                    { "ID": "\(node1Write)" },
                    { "Name": "node-read" }
                  ],
                  "Local": false
                }
                """
            let created = try await consul.put("/v1/acl/token", token: management, body: createPayload)
            #expect(created.status == 200, "\(created.body)")
            let token = created.object
            let accessor = try #require(token["AccessorID"] as? String)
            let secret = try #require(token["SecretID"] as? String)
            #expect(SecretFormat.isUUID(accessor))
            #expect(secret != "<hidden>" && SecretFormat.problem(with: secret) == nil)
            #expect(token["Description"] as? String == "Agent token for 'node1'")
            #expect(Self.linkNames(token) == ["node1-write", "node-read"])
            #expect((token["Policies"] as? [[String: Any]])?.first?["ID"] as? String == node1Write)
            #expect(token["Local"] as? Bool == false)
            #expect((token["Hash"] as? String).flatMap { Data(base64Encoded: $0) }?.count == 32)
            #expect(token["CreateIndex"] as? Int == token["ModifyIndex"] as? Int)
            #expect((token["CreateTime"] as? String).flatMap { ISO8601DateFormatter().date(from: String($0.prefix(19)) + "Z") } != nil)
            #expect(token["Namespace"] as? String == "default")

            // Read: the same token, with the secret hidden (Jaco never stored it).
            let read = try await consul.get("/v1/acl/token/\(accessor)", token: management)
            #expect(read.status == 200)
            #expect(read.object["SecretID"] as? String == "<hidden>")
            #expect(read.object["Hash"] as? String == token["Hash"] as? String)
            #expect(Self.linkNames(read.object) == ["node1-write", "node-read"])
            #expect(read.index != nil)
            #expect(read.header("X-Consul-KnownLeader") == "true")

            // Self: needs nothing but the secret, with any of the three ways to present it.
            for headers in [[("X-Consul-Token", secret)], [("Authorization", "Bearer \(secret)")]] {
                let selfAnswer = try await consul.get("/v1/acl/token/self", headers: headers)
                #expect(selfAnswer.status == 200, "\(selfAnswer.body)")
                #expect(selfAnswer.object["AccessorID"] as? String == accessor)
            }
            #expect(try await consul.get("/v1/acl/token/self?token=\(secret)").object["AccessorID"] as? String == accessor)

            // Update: the sample payload; the third policy is linked by name.
            let update = """
                {
                  "Description": "Agent token for 'node1'",
                  "Policies": [
                    { "ID": "\(node1Write)" },
                    { "Name": "node-read" },
                    { "Name": "service-read" }
                  ],
                  "Local": false
                }
                """
            let updated = try await consul.put("/v1/acl/token/\(accessor)", token: management, body: update)
            #expect(updated.status == 200, "\(updated.body)")
            #expect(Self.linkNames(updated.object) == ["node1-write", "node-read", "service-read"])
            #expect(updated.object["SecretID"] as? String == "<hidden>")
            #expect(try #require(updated.object["ModifyIndex"] as? Int) > (try #require(updated.object["CreateIndex"] as? Int)))
            #expect(updated.object["Hash"] as? String != token["Hash"] as? String)

            // Clone: the sample has a trailing comma, which Go's decoder (and Jaco's) refuses;
            // without it the clone carries the links and a new secret.
            let sloppy = try await consul.put("/v1/acl/token/\(accessor)/clone", token: management, body: #"{"Description": "Clone of Agent token for 'node1'",}"#)
            #expect(sloppy.status == 400)
            #expect(sloppy.body == "Bad request: Token decoding failed: invalid character '}' looking for beginning of object key string")
            let clone = try await consul.put("/v1/acl/token/\(accessor)/clone", token: management, body: #"{"Description": "Clone of Agent token for 'node1'"}"#)
            #expect(clone.status == 200, "\(clone.body)")
            let cloneSecret = try #require(clone.object["SecretID"] as? String)
            #expect(clone.object["AccessorID"] as? String != accessor && cloneSecret != secret)
            #expect(clone.object["Description"] as? String == "Clone of Agent token for 'node1'")
            #expect(Self.linkNames(clone.object) == ["node1-write", "node-read", "service-read"])
            #expect(try await consul.get("/v1/acl/token/self", token: cloneSecret).status == 200)

            // List: every token, secrets hidden; filters by policy.
            let list = try await consul.get("/v1/acl/tokens", token: management)
            #expect(list.status == 200)
            let accessors = list.objects.compactMap { $0["AccessorID"] as? String }
            #expect(accessors.contains(BuiltIn.anonymousTokenID) && accessors.contains(accessor))
            #expect(list.objects.allSatisfy { $0["SecretID"] as? String == "<hidden>" })
            #expect(!list.body.contains(secret) && !list.body.contains(cloneSecret))
            let filtered = try await consul.get("/v1/acl/tokens?policy=\(node1Write)", token: management)
            #expect(Set(filtered.objects.compactMap { $0["AccessorID"] as? String }) == [accessor, clone.object["AccessorID"] as! String])

            // Delete: bare true, also the second time; the secret no longer works.
            let deleted = try await consul.delete("/v1/acl/token/\(accessor)", token: management)
            #expect(deleted.status == 200 && deleted.body == "true")
            // Consul answers true for a token that is not there (agent/consul/acl_endpoint.go TokenDelete).
            #expect(try await consul.delete("/v1/acl/token/\(accessor)", token: management).body == "true")
            let gone = try await consul.get("/v1/acl/token/self", token: secret)
            #expect(gone.status == 403 && gone.body == "ACL not found")
            #expect(try await consul.get("/v1/acl/token/\(accessor)", token: management).status == 403)
        }
    }

    @Test("Bootstrap from jaco or from Consul: the first wins; jaco's tokens appear in /v1/acl/tokens")
    func oneBootstrapOneModel() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let consul = try ConsulClient(base: daemon.httpBase, caCertificate: daemon.caCertificate)
        defer { Task { try? await consul.shutdown() } }
        let initialized = try await daemon.jaco(["cluster", "init"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let bootstrap = initialized.lastWord
        let refused = try await consul.put("/v1/acl/bootstrap")
        #expect(refused.status == 403)
        #expect(refused.body.hasPrefix("Permission denied: ACL bootstrap no longer allowed (reset index: "))

        let issued = try await daemon.jaco(["token", "issue", "--name", "ci-deploy"], token: bootstrap)
        #expect(issued.status == 0)
        let list = try await consul.get("/v1/acl/tokens", token: bootstrap)
        let ciDeploy = try #require(list.objects.first { $0["Description"] as? String == "Token for ci-deploy" })
        #expect(Self.linkNames(ciDeploy) == ["global-management"])
        let bootstrapToken = try #require(list.objects.first { $0["Description"] as? String == "Bootstrap Token (Global Management)" })
        #expect(Self.linkNames(bootstrapToken) == ["global-management"])
        // The Consul token made by jaco's bootstrap token works with jaco as far as its rights go.
        #expect(try await consul.get("/v1/acl/token/self", token: issued.lastWord).status == 200)

        // The audit log names the Consul caller.
        let created = try await consul.put("/v1/acl/token", token: issued.lastWord, body: "{}")
        #expect(created.status == 200)
        let audit = try await daemon.jaco(["audit", "-o", "json", "--type", "token_issue"], token: bootstrap)
        let events = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
        #expect(events.last?["identity"] as? String == "ci-deploy")
        #expect((events.last?["payload"] as? [String: String])?["accessor_id"] == created.object["AccessorID"] as? String)
    }

    @Test("Update refuses to change immutable fields, naming the field; nothing changes")
    func immutableFields() async throws {
        try await withConsulDaemon { _, consul, management in
            let created = try await consul.put("/v1/acl/token", token: management, body: #"{"Description": "before", "ExpirationTTL": "1h"}"#)
            let accessor = try #require(created.object["AccessorID"] as? String)
            let expiration = try #require(created.object["ExpirationTime"] as? String)
            let cases: [(String, String)] = [
                (#"{"AccessorID": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"}"#, "Token Accessor ID in URL and payload do not match"),
                (#"{"SecretID": "8b1247ef-d172-4f99-b050-4dbe5d3df0cb"}"#, "SecretID"),
                (#"{"Local": true}"#, "Local"),
                (#"{"AuthMethod": "kubernetes"}"#, "AuthMethod"),
                (#"{"ExpirationTime": "2030-01-01T00:00:00Z"}"#, "ExpirationTime"),
                (#"{"ExpirationTTL": "2h"}"#, "ExpirationTime"),
            ]
            for (body, field) in cases {
                let answer = try await consul.put("/v1/acl/token/\(accessor)", token: management, body: body)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.body.contains(field), "\(answer.body)")
            }
            // Restating the immutable fields as they are is fine.
            let same = try await consul.put("/v1/acl/token/\(accessor)", token: management, body: #"{"AccessorID": "\#(accessor)", "ExpirationTime": "\#(expiration)", "Description": "after"}"#)
            #expect(same.status == 200, "\(same.body)")
            #expect(try await consul.get("/v1/acl/token/\(accessor)", token: management).object["Description"] as? String == "after")
        }
    }

    @Test("Namespaces: from the body, ?ns= or X-Consul-Namespace; ns=* lists all")
    func namespaces() async throws {
        try await withConsulDaemon { _, consul, management in
            let inBody = try await consul.put("/v1/acl/token", token: management, body: #"{"Namespace": "team-a"}"#)
            #expect(inBody.object["Namespace"] as? String == "team-a")
            let byQuery = try await consul.put("/v1/acl/token?ns=team-b", token: management, body: "{}")
            #expect(byQuery.object["Namespace"] as? String == "team-b")
            let a = try #require(inBody.object["AccessorID"] as? String)

            let defaults = try await consul.get("/v1/acl/tokens", token: management).objects.compactMap { $0["AccessorID"] as? String }
            #expect(!defaults.contains(a))
            let all = try await consul.get("/v1/acl/tokens?ns=*", token: management).objects.compactMap { $0["AccessorID"] as? String }
            let b = try #require(byQuery.object["AccessorID"] as? String)
            #expect(all.contains(a) && all.contains(b))
            #expect(try await consul.get("/v1/acl/token/\(a)", token: management).status == 403)
            let header = try await consul.get("/v1/acl/token/\(a)", token: management, headers: [("X-Consul-Namespace", "team-a")])
            #expect(header.status == 200)
            let bad = try await consul.get("/v1/acl/tokens?ns=no%20spaces", token: management)
            #expect(bad.status == 400 && bad.body.contains("Invalid namespace"))
            // A bad ?ns= is refused even where the body's Namespace would win (found by schemathesis).
            let overridden = try await consul.put("/v1/acl/token?ns=no%23hash", token: management, body: #"{"Namespace": "default"}"#)
            #expect(overridden.status == 400 && overridden.body.contains("Invalid namespace 'no#hash'"), "\(overridden.status) \(overridden.body)")
        }
    }
}
