import Foundation
import GRPCTransport
import JacoKernel
import JacoTestKit
import Testing

/// Listings that span many pages, through the CLI, gRPC and the Consul API, on every durable
/// engine: each token exactly once, also while tokens are added and revoked between pages.
@Suite("listings page end to end", .serialized)
struct PagingTests {
    /// Consul's lists are streamed in pages of this many records here.
    static let consulPage = 4

    @Test("more tokens than a page: CLI, gRPC and Consul list each once", arguments: ["sqlite.toml", "lmdb.toml", "etcd.toml"])
    func everyTokenOnce(config: String) async throws {
        let etcd = config == "etcd.toml" ? try await EtcdCluster.start(size: 1) : nil
        defer { etcd?.stop() }
        let daemon = try Daemon(
            config: config, environment: ["JACO_TEST_LIST_PAGE_SIZE": String(Self.consulPage)],
            extraArguments: etcd.map { ["--etcd-endpoints", $0.endpoints] } ?? [])
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let consul = try ConsulClient(base: daemon.httpBase, caCertificate: daemon.caCertificate)
        defer { Task { try? await consul.shutdown() } }

        // 21 Consul tokens, 6 policies (two on every third token), 5 roles.
        var policies: [String] = []
        for n in 0..<6 {
            let policy = try await consul.put("/v1/acl/policy", token: bootstrap, body: #"{"Name": "p\#(n)", "Rules": "acl = \"read\""}"#)
            policies.append(try #require(policy.object["ID"] as? String))
        }
        for n in 0..<5 {
            #expect(try await consul.put("/v1/acl/role", token: bootstrap, body: #"{"Name": "r\#(n)", "Policies": [{"ID": "\#(policies[0])"}]}"#).status == 200)
        }
        for n in 0..<21 {
            let link = n % 3 == 0 ? #", "Policies": [{"ID": "\#(policies[1])"}]"# : ""
            #expect(try await consul.put("/v1/acl/token", token: bootstrap, body: #"{"Description": "t\#(n)"\#(link)}"#).status == 200)
        }
        // 23 tokens: the 21, the bootstrap token and the anonymous token.
        let all = try await consul.get("/v1/acl/tokens", token: bootstrap)
        #expect(all.status == 200)
        #expect(all.header("X-Consul-Index") != nil)
        let accessors = all.objects.compactMap { $0["AccessorID"] as? String }
        #expect(accessors.count == 23 && Set(accessors).count == 23, "\(accessors.count) listed")
        #expect(accessors == accessors.sorted())
        let filtered = try await consul.get("/v1/acl/tokens?policy=\(policies[1])", token: bootstrap)
        #expect(filtered.objects.count == 7)
        #expect(try await consul.get("/v1/acl/policies", token: bootstrap).objects.count == 8)  // and global-management, global-read-only
        #expect(try await consul.get("/v1/acl/roles", token: bootstrap).objects.count == 5)
        #expect(try await consul.get("/v1/acl/roles?policy=\(policies[1])", token: bootstrap).objects.isEmpty)

        // The CLI (--all: the anonymous token too): pages of 3, table and JSON; --limit stops early.
        let table = try await daemon.jaco(["token", "list", "--all", "--page-size", "3"], token: bootstrap)
        #expect(table.status == 0, "\(table.stderr)")
        let rows = table.stdout.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(rows.count == 23 && Set(rows).count == 23)
        let json = try await daemon.jaco(["token", "list", "--all", "--page-size", "5", "-o", "json"], token: bootstrap)
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(listed.compactMap { $0["accessor_id"] as? String } == accessors)
        let limited = try await daemon.jaco(["token", "list", "--all", "--page-size", "2", "--limit", "5"], token: bootstrap)
        #expect(limited.stdout.split(separator: "\n").count == 6)

        // gRPC, pages of 4, with a token added and one revoked between every two pages: each token
        // present throughout appears once; none appears twice.
        let client = JacoClient(target: .tls(host: "127.0.0.1", port: daemon.port, caCertificate: daemon.caCertificate), token: bootstrap)
        var seen: [String] = []
        var pageToken = ""
        var added = 0
        repeat {
            let page = try await client.list(pageSize: 4, pageToken: pageToken)
            #expect(page.tokens.count <= 4)
            seen += page.tokens.map(\.accessorID)
            pageToken = page.nextPageToken
            #expect(try await daemon.jaco(["token", "issue", "--name", "walker-\(added)"], token: bootstrap).status == 0)
            if added > 0 { #expect(try await daemon.jaco(["token", "revoke", "walker-\(added - 1)"], token: bootstrap).status == 0) }
            added += 1
        } while !pageToken.isEmpty
        #expect(Set(seen).count == seen.count, "a token was listed twice")
        #expect(Set(accessors).isSubset(of: Set(seen)), "a token present throughout was missed")
        let bad = try await daemon.jaco(["token", "list", "--page-size", "9999"], token: bootstrap)
        #expect(bad.status == 64)

        // Audit: more events than one store page of the CLI's table measure, streamed in order.
        let audit = try await daemon.jaco(["audit", "-o", "json"], token: bootstrap)
        let events = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
        let sequences = events.compactMap { ($0["sequence"] as? NSNumber)?.uint64Value }
        #expect(sequences == Array(1...UInt64(sequences.count)) && sequences.count > 40)
    }
}
