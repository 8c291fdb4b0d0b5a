import Foundation
import JacoKernel
import JacoTestKit
import NIOHTTP1
import Testing

/// Expiry, rotation, re-issue, last use and leak reports, with the real `jacod` and `jaco`.
@Suite("Token lifecycle end to end", .serialized)
struct TokenLifecycleTests {
    /// `base` (a file under Configs/) with `[tokens]` appended, written to a temporary file.
    static func config(_ base: String, tokens: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-lifecycle-\(UUID().uuidString).toml")
        try (try String(contentsOfFile: Build.config(base), encoding: .utf8) + "\n[tokens]\n\(tokens)\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Short TTLs are allowed (as in the Consul expiry tests); last use is written every second.
    static let environment = ["JACO_TEST_MIN_EXPIRATION_TTL": "1"]

    /// Sleeps until `date` (at once when it has passed).
    static func sleep(until date: Date) async throws {
        let left = date.timeIntervalSinceNow
        if left > 0 { try await Task.sleep(for: .milliseconds(Int(left * 1000))) }
    }

    /// Polls `body` every 100 ms until it returns true or `seconds` pass.
    static func eventually(within seconds: Double, _ body: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await body() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await body()
    }

    @Test("TTL, re-issue, rotation, last use across a restart, list filters, leak reports", arguments: ["sqlite.toml", "lmdb.toml"])
    func lifecycle(base: String) async throws {
        let config = try Self.config(base, tokens: "last_used_flush = \"1s\"\nmax_ttl = \"30d\"")
        defer { try? FileManager.default.removeItem(at: config) }
        let daemon = try Daemon(config: config.path, environment: Self.environment)
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord

        // TTL: bounded, parsed, shown; the token fails token_expired with the time, also once
        // the reaper deleted it (audited token_expire).
        let shortIssued = Date()
        let short = try await daemon.jaco(["token", "issue", "--name", "short", "--ttl", "5s"], token: bootstrap)
        #expect(short.status == 0, "\(short.stderr)")
        #expect(short.stdout.contains("; expires 20"), "\(short.stdout)")
        // Used at once: on a loaded machine the calls below can take a few of its 5 seconds.
        #expect(try await daemon.jaco(["token", "list"], token: short.lastWord).status == 0)
        let expiring = try await daemon.jaco(["token", "list", "--expiring", "1h"], token: bootstrap)
        if Date() < shortIssued.addingTimeInterval(4.5) {  // listed inside its TTL (a loaded machine can take longer)
            #expect(expiring.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").first.map(String.init) } == ["short"])
        }
        let tooLong = try await daemon.jaco(["token", "issue", "--name", "long", "--ttl", "31d"], token: bootstrap)
        #expect(tooLong.stderr.hasPrefix("validation_failed: --ttl 31d is longer than [tokens] max_ttl, 30d"), "\(tooLong.stderr)")
        let badTTL = try await daemon.jaco(["token", "issue", "--name", "long", "--ttl", "5x"], token: bootstrap)
        #expect(badTTL.status == 1)
        #expect(badTTL.stderr.contains("--ttl '5x' is not a duration"), "\(badTTL.stderr)")
        try await Self.sleep(until: shortIssued.addingTimeInterval(5.5))
        let expired = try await daemon.jaco(["token", "list"], token: short.lastWord)
        #expect(expired.stderr.hasPrefix("token_expired: the token for 'short' expired at 20"), "\(expired.stderr)")
        #expect(try await Self.eventually(within: 5) {
            try await daemon.jaco(["audit", "--type", "token_expire", "-o", "json"], token: bootstrap).stdout.contains("\"short\"")
        })
        #expect(try await daemon.jaco(["token", "list"], token: short.lastWord).stderr.hasPrefix("token_expired:"))

        // Re-issue: a revoked name can be issued again; an active one cannot.
        let bob = try await daemon.jaco(["token", "issue", "--name", "bob"], token: bootstrap)
        #expect(try await daemon.jaco(["token", "revoke", "bob"], token: bootstrap).status == 0)
        let bob2 = try await daemon.jaco(["token", "issue", "--name", "bob"], token: bootstrap)
        #expect(bob2.status == 0, "\(bob2.stderr)")
        #expect(try await daemon.jaco(["token", "list"], token: bob.lastWord).stderr.hasPrefix("token_revoked:"))
        #expect(try await daemon.jaco(["token", "list"], token: bob2.lastWord).status == 0)
        let twice = try await daemon.jaco(["token", "issue", "--name", "bob"], token: bootstrap)
        #expect(twice.stderr.hasPrefix("duplicate_identity: a token with identity 'bob' already exists and is active; rotate its secret with 'jaco token rotate bob'"), "\(twice.stderr)")
        let rows = try await daemon.jaco(["token", "list"], token: bootstrap).stdout
        #expect(rows.split(separator: "\n").filter { $0.hasPrefix("bob") }.count == 1, "\(rows)")
        #expect(try await daemon.jaco(["token", "list", "--all"], token: bootstrap).stdout.contains("bob (replaced)"))
        let revokedOnly = try await daemon.jaco(["token", "list", "--revoked", "--all"], token: bootstrap).stdout
        #expect(revokedOnly.contains("bob (replaced)") && !revokedOnly.contains("bootstrap"), "\(revokedOnly)")

        // Rotation with a grace window, then at once; a second rotation in the window needs --force.
        let alice = try await daemon.jaco(["token", "issue", "--name", "alice"], token: bootstrap)
        let rotatedAt = Date()
        let rotated = try await daemon.jaco(["token", "rotate", "alice", "--grace", "6s"], token: bootstrap)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.contains("the previous secret works until 20"), "\(rotated.stdout)")
        #expect(try await daemon.jaco(["token", "list"], token: alice.lastWord).status == 0)
        #expect(try await daemon.jaco(["token", "list"], token: rotated.lastWord).status == 0)
        let again = try await daemon.jaco(["token", "rotate", "alice"], token: bootstrap)
        #expect(again.stderr.hasPrefix("failed_precondition: the token for 'alice' is inside a rotation's grace window until"), "\(again.stderr)")
        // Past the grace end the daemon printed (later than rotatedAt + 6 s when the call was slow).
        let graceEnd = rotated.stdout.firstMatch(of: /works until (\S+)/).flatMap { ISO8601DateFormatter().date(from: String($0.1)) } ?? rotatedAt.addingTimeInterval(6)
        try await Self.sleep(until: graceEnd.addingTimeInterval(1.2))
        let old = try await daemon.jaco(["token", "list"], token: alice.lastWord)
        #expect(old.status == 1)
        #expect(old.stderr.hasPrefix("token_revoked:") || old.stderr.hasPrefix("token_invalid:"), "\(old.stderr)")
        #expect(try await daemon.jaco(["token", "list"], token: rotated.lastWord).status == 0)
        #expect(try await Self.eventually(within: 5) {
            try await daemon.jaco(["audit", "--type", "token_rotate_finished", "-o", "json"], token: bootstrap).stdout.contains("grace over")
        })
        let atOnce = try await daemon.jaco(["token", "rotate", "alice"], token: bootstrap)
        #expect(atOnce.stdout.contains("the previous secret has stopped working"), "\(atOnce.stdout)")
        #expect(try await daemon.jaco(["token", "list"], token: rotated.lastWord).status == 1)
        let aliceSecret = atOnce.lastWord
        let unknownName = try await daemon.jaco(["token", "rotate", "nobody"], token: bootstrap)
        #expect(unknownName.stderr.hasPrefix("not_found: no token has identity 'nobody'"), "\(unknownName.stderr)")
        let badGrace = try await daemon.jaco(["token", "rotate", "alice", "--grace", "soon"], token: bootstrap)
        #expect(badGrace.stderr.contains("--grace 'soon' is not a duration"), "\(badGrace.stderr)")

        // Last use: recorded on verify, written within a second, shown by -o wide, kept across a restart.
        let carol = try await daemon.jaco(["token", "issue", "--name", "carol"], token: bootstrap)
        #expect(try await daemon.jaco(["token", "list"], token: aliceSecret).status == 0)
        try await Task.sleep(for: .seconds(2))
        let wide = try await daemon.jaco(["token", "list", "-o", "wide"], token: bootstrap).stdout
        #expect(wide.split(separator: "\n").first?.split(separator: " ", omittingEmptySubsequences: true) == ["IDENTITY", "ISSUED", "REVOKED", "EXPIRES", "LAST", "USED"])
        #expect(wide.split(separator: "\n").first { $0.hasPrefix("carol") }?.hasSuffix("never") == true, "\(wide)")
        #expect(wide.split(separator: "\n").first { $0.hasPrefix("alice") }?.hasSuffix("Z") == true, "\(wide)")
        let unused = try await daemon.jaco(["token", "list", "--unused", "1h"], token: bootstrap).stdout
        #expect(unused.contains("carol") && !unused.contains("alice"), "\(unused)")
        let before = try Self.lastUsed("alice", in: try await daemon.jaco(["token", "list", "-o", "json"], token: bootstrap).stdout)
        #expect(before != nil)
        #expect(await daemon.stop() == 0)
        try await daemon.start()
        let after = try Self.lastUsed("alice", in: try await daemon.jaco(["token", "list", "-o", "json"], token: bootstrap).stdout)
        #expect(after == before, "\(String(describing: after)) after the restart, \(String(describing: before)) before")

        // Leak reports: no token needed; per line; malformed lines exit 1; nothing else revoked.
        let dave = try await daemon.jaco(["token", "issue", "--name", "dave"], token: bootstrap)
        let leaks = daemon.dataDirectory.appendingPathComponent("leaked.txt")
        try "# found by the scanner\n\(carol.lastWord)\n\(carol.lastWord)\n\(SecretFormat.generate())\njaco_not-a-secret\n\n"
            .write(to: leaks, atomically: true, encoding: .utf8)
        let report = try await EndToEndTests.jaco(["token", "revoke", "--secret-file", leaks.path, "--server", daemon.server, "--ca-cert", daemon.caCertificate])
        #expect(report.status == 1)
        let lines = report.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(report.stdout) \(report.stderr)")
        #expect(lines.first == "revoked carol")
        #expect(lines.dropFirst().first == "already revoked carol")
        #expect(lines.dropFirst(2).first == "unknown")
        #expect(lines.last?.hasPrefix("malformed: ") == true)
        #expect(try await daemon.jaco(["token", "list"], token: carol.lastWord).stderr.hasPrefix("token_revoked:"))
        #expect(try await daemon.jaco(["token", "list"], token: dave.lastWord).status == 0)
        let audit = try await daemon.jaco(["audit", "--type", "token_revoke_leaked", "-o", "json"], token: bootstrap).stdout
        #expect(audit.contains("\"carol\"") && audit.contains("leak-report"), "\(audit)")
        #expect(!audit.contains(carol.lastWord))

        // Over the limits, over HTTPS: a clear 400, and nothing is revoked.
        let consul = try ConsulClient(base: daemon.httpBase, caCertificate: daemon.caCertificate)
        defer { Task { try? await consul.shutdown() } }
        let many = (0...TokenService.maxLeakedSecrets).map { $0 == 0 ? dave.lastWord : SecretFormat.generate() }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: many), as: UTF8.self)
        let tooMany = try await consul.send(.POST, "/v1/jaco/revoke-leaked", body: body)
        #expect(tooMany.status == 400)
        #expect(tooMany.body.contains("at most 1000 secrets, not 1001"), "\(tooMany.body)")
        let huge = try await consul.send(.POST, "/v1/jaco/revoke-leaked", body: "[\"" + String(repeating: "a", count: 1 << 20) + "\"]")
        #expect(huge.status == 400)
        #expect(huge.body.contains("larger than the limit of 1048576 bytes"), "\(huge.body)")
        let notArray = try await consul.send(.POST, "/v1/jaco/revoke-leaked", body: "{\"secret\": 1}")
        #expect(notArray.status == 400 && notArray.body.contains("must be a JSON array of secrets"), "\(notArray.body)")
        #expect(try await daemon.jaco(["token", "list"], token: dave.lastWord).status == 0)
        let viaHTTP = try await consul.send(.POST, "/v1/jaco/revoke-leaked", body: "[\"\(dave.lastWord)\"]")
        #expect(viaHTTP.status == 200)
        #expect((viaHTTP.json as? [[String: Any]])?.first?["result"] as? String == "revoked", "\(viaHTTP.body)")
        #expect((viaHTTP.json as? [[String: Any]])?.first?["identity"] as? String == "dave")

        // A Consul-made token rotates by its accessor ID; the Consul API shows Jaco's fields.
        let made = try await consul.put("/v1/acl/token", token: bootstrap, body: "{\"Description\": \"ci\", \"Policies\": [{\"Name\": \"global-management\"}]}")
        let accessor = try #require(made.object["AccessorID"] as? String, "\(made.body)")
        let secret = try #require(made.object["SecretID"] as? String)
        let consulRotated = try await daemon.jaco(["token", "rotate", accessor, "--grace", "1h"], token: bootstrap)
        #expect(consulRotated.status == 0, "\(consulRotated.stderr)")
        #expect(try await daemon.jaco(["token", "list"], token: secret).status == 0)
        let read = try await consul.get("/v1/acl/token/\(accessor)", token: consulRotated.lastWord)
        #expect(read.status == 200)
        #expect(read.object["JacoRotationGraceEndTime"] is String, "\(read.body)")
        #expect(read.object["JacoLastUsedTime"] is String, "\(read.body)")
        // The list shows the same last use (read a page at a time).
        let list = try await consul.get("/v1/acl/tokens", token: consulRotated.lastWord)
        let listed = (list.json as? [[String: Any]])?.first { $0["AccessorID"] as? String == accessor }
        #expect(listed?["JacoLastUsedTime"] as? String == read.object["JacoLastUsedTime"] as? String, "\(list.body)")
    }

    @Test("On etcd, two daemons: a rotation's old secret works on both inside the grace and on neither after; a use on one shows on the other; a leak report on one revokes on both")
    func etcdDaemons() async throws {
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        let config = try Self.config("etcd.toml", tokens: "last_used_flush = \"1s\"")
        defer { try? FileManager.default.removeItem(at: config) }
        var daemons: [Daemon] = []
        defer { for daemon in daemons { daemon.remove() } }
        for _ in 0..<2 {
            let daemon = try Daemon(config: config.path, environment: Self.environment, extraArguments: ["--etcd-endpoints", etcd.endpoints])
            try await daemon.start()
            daemons.append(daemon)
        }
        let (a, b) = (daemons[0], daemons[1])
        let ca = a.caCertificate
        let bootstrap = try await a.jaco(["cluster", "init"]).lastWord
        let alice = try await a.jaco(["token", "issue", "--name", "alice", "--ttl", "1h"], token: bootstrap)
        #expect(alice.status == 0, "\(alice.stderr)")

        let rotatedAt = Date()
        let rotated = try await a.jaco(["token", "rotate", "alice", "--grace", "6s"], token: bootstrap)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        for daemon in daemons {
            #expect(try await daemon.jaco(["token", "list"], token: alice.lastWord, caCertificate: ca).status == 0)
            #expect(try await daemon.jaco(["token", "list"], token: rotated.lastWord, caCertificate: ca).status == 0)
        }
        // Past the grace end the daemon printed (later than rotatedAt + 6 s when the call was slow).
        let graceEnd = rotated.stdout.firstMatch(of: /works until (\S+)/).flatMap { ISO8601DateFormatter().date(from: String($0.1)) } ?? rotatedAt.addingTimeInterval(6)
        try await Self.sleep(until: graceEnd.addingTimeInterval(1.2))
        for daemon in daemons {
            #expect(try await daemon.jaco(["token", "list"], token: alice.lastWord, caCertificate: ca).status == 1)
            #expect(try await daemon.jaco(["token", "list"], token: rotated.lastWord, caCertificate: ca).status == 0)
        }
        // One daemon finishes the rotation; the audit has it once.
        #expect(try await Self.eventually(within: 5) {
            let finished = try await a.jaco(["audit", "--type", "token_rotate_finished", "-o", "json"], token: bootstrap).stdout
            return finished.components(separatedBy: "grace over").count == 2
        })

        // Used only on daemon b: daemon a lists the time once b has written it.
        let bob = try await a.jaco(["token", "issue", "--name", "bob"], token: bootstrap)
        #expect(try await b.jaco(["token", "list"], token: bob.lastWord, caCertificate: ca).status == 0)
        #expect(try await Self.eventually(within: 5) {
            try Self.lastUsed("bob", in: try await a.jaco(["token", "list", "-o", "json"], token: bootstrap).stdout) != nil
        })

        // A leak reported to b revokes the token on a.
        let leaks = a.dataDirectory.appendingPathComponent("leaked.txt")
        try "\(bob.lastWord)\n".write(to: leaks, atomically: true, encoding: .utf8)
        let report = try await EndToEndTests.jaco(["token", "revoke", "--secret-file", leaks.path, "--server", b.server, "--ca-cert", ca])
        #expect(report.stdout == "revoked bob\n", "\(report.stdout) \(report.stderr)")
        #expect(try await Self.eventually(within: 5) {
            try await a.jaco(["token", "list"], token: bob.lastWord).stderr.hasPrefix("token_revoked:")
        })
    }

    /// The `last_used` of `identity` in `jaco token list -o json` output.
    static func lastUsed(_ identity: String, in json: String) throws -> String? {
        let tokens = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        return tokens.first { $0["identity"] as? String == identity }?["last_used"] as? String
    }
}
