import Foundation
import JacoKernel
import Testing

@Suite("Consul API blocking queries, expiry and bad input end to end")
struct ConsulBlockingTests {
    @Test("A blocking list wakes on a write and times out at wait")
    func blocking() async throws {
        try await withConsulDaemon { _, consul, management in
            let first = try await consul.get("/v1/acl/tokens", token: management)
            let index = try #require(first.index)
            let clock = ContinuousClock()

            async let blocked = { () async throws -> (ConsulClient.Answer, ContinuousClock.Instant) in
                let answer = try await consul.get("/v1/acl/tokens?index=\(index)&wait=60s", token: management)
                return (answer, clock.now)
            }()
            // Give the query time to reach the daemon and block, then write.
            try await Task.sleep(for: .milliseconds(500))
            let created = try await consul.put("/v1/acl/token", token: management, body: #"{"Description": "wakes the watcher"}"#)
            let written = clock.now
            let (answer, woke) = try await blocked
            #expect(answer.status == 200)
            #expect(try #require(answer.index) > index)
            #expect(answer.objects.contains { $0["AccessorID"] as? String == created.object["AccessorID"] as? String })
            // Woken by the change feed: far sooner than the 60 s wait (the bound is loose so that a
            // loaded CI machine does not fail it; latency is the benchmarks' business).
            #expect(woke - written < .seconds(5), "woke \(woke - written) after the write returned")

            // Nothing changes: the query returns at wait (plus at most wait/16 of jitter) with the same index.
            let current = try #require(answer.index)
            let start = clock.now
            let timedOut = try await consul.get("/v1/acl/tokens?index=\(current)&wait=1s", token: management)
            let elapsed = clock.now - start
            #expect(timedOut.index == current)
            #expect(elapsed >= .seconds(1) && elapsed < .seconds(3), "\(elapsed)")

            // A write to another resource (a policy) does not wake a token query.
            let policyStart = clock.now
            async let tokenQuery = consul.get("/v1/acl/tokens?index=\(current)&wait=1s", token: management)
            _ = try await ConsulTokenAPITests.policy(consul, management, name: "unrelated")
            #expect(try await tokenQuery.index == current)
            #expect(clock.now - policyStart >= .seconds(1))

            let both = try await consul.get("/v1/acl/tokens?stale&consistent", token: management)
            #expect(both.status == 400 && both.body == "Cannot specify ?stale with ?consistent, conflicting semantics.")
            let stale = try await consul.get("/v1/acl/tokens?stale", token: management)
            #expect(stale.header("X-Consul-Effective-Consistency") == "stale")
        }
    }

    @Test("Past max_blocking_queries a blocking query answers at once with the current index; a place freed blocks again")
    func blockingCap() async throws {
        let config = try editedConfig("memory.toml", [adding("max_blocking_queries = 1", after: ListenerLine.consulHTTP)])
        defer { try? FileManager.default.removeItem(at: config) }
        try await withConsulDaemon(config: config.path) { _, consul, management in
            let index = try #require(try await consul.get("/v1/acl/tokens", token: management).index)
            let clock = ContinuousClock()
            async let held = consul.get("/v1/acl/tokens?index=\(index)&wait=60s", token: management)
            try await Task.sleep(for: .milliseconds(500))
            // The one place is taken: this query answers at once, unchanged.
            let start = clock.now
            let full = try await consul.get("/v1/acl/tokens?index=\(index)&wait=30s", token: management)
            #expect(full.status == 200 && full.index == index)
            #expect(clock.now - start < .seconds(5), "a query past the cap waited \(clock.now - start)")
            // A write wakes the held query; its place is free again and the next one blocks.
            _ = try await consul.put("/v1/acl/token", token: management, body: #"{"Description": "wakes the holder"}"#)
            let woken = try await held
            let next = try #require(woken.index)
            #expect(next > index)
            let again = clock.now
            let blocked = try await consul.get("/v1/acl/tokens?index=\(next)&wait=1s", token: management)
            #expect(blocked.index == next && clock.now - again >= .seconds(1), "\(clock.now - again)")
        }
    }

    @Test("An expired token stops authenticating at once and the reaper deletes it, audited")
    func expiry() async throws {
        try await withConsulDaemon(environment: ["JACO_TEST_MIN_EXPIRATION_TTL": "1"]) { daemon, consul, management in
            let tooLong = try await consul.put("/v1/acl/token", token: management, body: #"{"ExpirationTTL": "25h"}"#)
            #expect(tooLong.status == 400 && tooLong.body.hasPrefix("ExpirationTime cannot be more than 24h0m0s in the future"))
            let requested = ContinuousClock.now
            let created = try await consul.put("/v1/acl/token", token: management, body: #"{"ExpirationTTL": "2s"}"#)
            #expect(created.status == 200, "\(created.body)")
            let secret = try #require(created.object["SecretID"] as? String)
            let accessor = try #require(created.object["AccessorID"] as? String)
            #expect(created.object["ExpirationTime"] is String)
            let alive = try await consul.get("/v1/acl/token/self", token: secret).status
            if ContinuousClock.now - requested < .milliseconds(1800) {  // inside its TTL (a loaded machine can take longer)
                #expect(alive == 200)
            }

            // Watch the token list with blocking queries until the reaper has deleted it.
            var index = try #require(try await consul.get("/v1/acl/tokens", token: management).index)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let answer = try await consul.get("/v1/acl/tokens?ns=*&index=\(index)&wait=5s", token: management)
                index = answer.index ?? index
                if try await consul.get("/v1/acl/token/self", token: secret).status == 403 {
                    let audit = try await daemon.jaco(["audit", "-o", "json", "--type", "token_expire"], token: management)
                    if audit.stdout.contains(accessor) { break }
                }
            }
            let refused = try await consul.get("/v1/acl/token/self", token: secret)
            #expect(refused.status == 403 && refused.body == "ACL not found")
            let audit = try await daemon.jaco(["audit", "-o", "json", "--type", "token_expire"], token: management)
            #expect(audit.stdout.contains(accessor))
            #expect(try await consul.get("/v1/acl/token/\(accessor)", token: management).status == 403)
        }
    }

    @Test("Bad input gets a 400 naming the problem, and nothing is stored")
    func badInput() async throws {
        try await withConsulDaemon { _, consul, management in
            let before = try await consul.get("/v1/acl/tokens?ns=*", token: management).objects.count
            let huge = #"{"Description": ""# + String(repeating: "x", count: 2 << 20) + #""}"#
            let cases: [(String, String, String)] = [
                ("/v1/acl/token", "{\"Description\": ", "Token decoding failed: unexpected end of JSON input"),
                ("/v1/acl/token", "[]", "Token decoding failed: json: cannot unmarshal array into Go value of type structs.ACLToken"),
                ("/v1/acl/token", #"{"Description": 5}"#, "Token decoding failed: json: cannot unmarshal number into Go struct field ACLToken.Description of type string"),
                ("/v1/acl/token", #"{"Policies": [{"ID": true}]}"#, "Token decoding failed: json: cannot unmarshal bool into Go struct field ACLToken.Policies.ID of type string"),
                ("/v1/acl/token", #"{"ExpirationTTL": "soon"}"#, "Token decoding failed: time: invalid duration \"soon\""),
                ("/v1/acl/token", #"{"ExpirationTime": "tomorrow"}"#, "Token decoding failed: parsing time \"tomorrow\""),
                ("/v1/acl/token", #"{"AccessorID": "not-a-uuid"}"#, "Invalid Token: AccessorID - not a valid UUID"),
                ("/v1/acl/token", #"{"SecretID": "00000000-0000-0000-0000-000000000099"}"#, "Invalid Token: SecretID - UUIDs with the prefix"),
                ("/v1/acl/token", #"{"ServiceIdentities": [{"ServiceName": "Web"}]}"#, "Service identity \"Web\" has an invalid name"),
                ("/v1/acl/token", #"{"NodeIdentities": [{"NodeName": "n1", "Datacenter": "dc1"}]}"#, "NodeIdentities is not supported by Jaco"),
                ("/v1/acl/token", #"{"TemplatedPolicies": [{"TemplateName": "builtin/service"}]}"#, "TemplatedPolicies is not supported by Jaco"),
                ("/v1/acl/token", #"{"Type": "management"}"#, "legacy token type"),
                ("/v1/acl/token", huge, "the request body is larger than the limit of 1048576 bytes"),
                ("/v1/acl/policy", #"{"Name": "bad name"}"#, "Invalid Policy: invalid Name"),
                ("/v1/acl/policy", #"{"Name": "p", "Rules": "acl = \"admin\""}"#, "Failed to parse policy: invalid acl policy \"admin\""),
                ("/v1/acl/role", #"{"Name": "r", "Policies": [{"Name": "missing"}]}"#, "No such ACL policy with name \"missing\""),
            ]
            for (path, body, message) in cases {
                let answer = try await consul.put(path, token: management, body: body)
                #expect(answer.status == 400, "\(body.prefix(80)): \(answer.status) \(answer.body)")
                #expect(answer.body.contains(message), "\(body.prefix(80)): \(answer.body)")
            }
            for (query, message) in [("index=abc", "Invalid index"), ("wait=forever", "Invalid wait time"), ("index=-1", "Invalid index")] {
                let answer = try await consul.get("/v1/acl/tokens?\(query)", token: management)
                #expect(answer.status == 400 && answer.body.contains(message), "\(query): \(answer.body)")
            }
            // Go's decoder matches field names case-insensitively and the last duplicate wins;
            // Consul's lib.DecodeJSON refuses unknown fields (DisallowUnknownFields).
            let unknown = try await consul.put("/v1/acl/token", token: management, body: #"{"Description": "x", "Colour": "blue"}"#)
            #expect(unknown.status == 400 && unknown.body == #"Bad request: Token decoding failed: json: unknown field "Colour""#, "\(unknown.body)")
            let loose = try await consul.put("/v1/acl/token", token: management, body: #"{"description": "first", "DESCRIPTION": "last"}"#)
            #expect(loose.status == 200 && loose.object["Description"] as? String == "last")
            let after = try await consul.get("/v1/acl/tokens?ns=*", token: management).objects.count
            #expect(after == before + 1)
            #expect(try await consul.get("/v1/acl/policies", token: management).objects.compactMap { $0["Name"] as? String } == ["global-management", "global-read-only"])
        }
    }
}
