import Foundation
import JacoKernel
import JacoTestKit
import Testing

/// Several real `jacod` on a real etcd cluster.
@Suite("jacod on etcd end to end", .serialized)
struct EtcdClusterTests {
    /// A temporary copy of Configs/etcd.toml with one line changed (the caller removes it).
    static func shippedConfig(replacing line: String, with replacement: String) throws -> URL {
        let shipped = try String(contentsOfFile: Build.config("etcd.toml"), encoding: .utf8)
        try #require(shipped.contains(line), "Configs/etcd.toml has no line '\(line)'")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-etcd-\(UUID().uuidString).toml")
        try shipped.replacingOccurrences(of: line, with: replacement).write(to: copy, atomically: true, encoding: .utf8)
        return copy
    }

    @Test("Three daemons on a three-member etcd: one CA, issue anywhere, a revoke rejected everywhere within 5 s, member and daemon crashes survived")
    func threeDaemons() async throws {
        let etcd = try await EtcdCluster.start(size: 3)
        defer { etcd.stop() }
        var daemons: [Daemon] = []
        defer { for daemon in daemons { daemon.remove() } }
        for _ in 0..<3 {
            let daemon = try Daemon(config: "etcd.toml", extraArguments: ["--etcd-endpoints", etcd.endpoints])
            try await daemon.start()
            daemons.append(daemon)
        }
        // One cluster, one CA: every daemon's ca.crt is the first daemon's, and it pins them all.
        let ca = daemons[0].caCertificate
        let caText = try String(contentsOfFile: ca, encoding: .utf8)
        for daemon in daemons { #expect(try String(contentsOfFile: daemon.caCertificate, encoding: .utf8) == caText) }

        let initialized = try await daemons[0].jaco(["cluster", "init"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let bootstrap = initialized.lastWord
        let refused = try await daemons[2].jaco(["cluster", "init"], caCertificate: ca)
        #expect(refused.status == 1 && refused.stderr.hasPrefix("already_initialized:"))

        // Issue on daemon 1; the token verifies on 2 and 3.
        let alice = try await daemons[0].jaco(["token", "issue", "--name", "alice"], token: bootstrap)
        #expect(alice.status == 0, "\(alice.stderr)")
        for daemon in daemons[1...] {
            let listed = try await daemon.jaco(["token", "list"], token: alice.lastWord, caCertificate: ca)
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.stdout.contains("alice"))
        }

        // Revoke on daemon 2: daemons 1 and 3 reject the token within 5 s of the revoke returning.
        let revoked = try await daemons[1].jaco(["token", "revoke", "alice"], token: bootstrap, caCertificate: ca)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let revokedAt = ContinuousClock.now
        for index in [0, 2] {
            var rejected = false
            while !rejected, ContinuousClock.now - revokedAt < .seconds(5) {
                let answer = try await daemons[index].jaco(["token", "list"], token: alice.lastWord, caCertificate: ca)
                rejected = answer.stderr.hasPrefix("token_revoked:")
            }
            #expect(rejected, "daemon \(index + 1) still accepted the revoked token after 5 s")
        }

        // A stream of issues and verifies while one etcd member is killed, then one daemon.
        var acknowledged: [String] = []
        var verifyFailures: [String] = []
        for n in 0..<24 {
            if n == 8 { etcd.kill(0) }
            if n == 16 { daemons[2].crash() }
            let live = n >= 16 ? Array(daemons[0..<2]) : daemons
            let writer = live[n % live.count]
            let issued = try await writer.jaco(["token", "issue", "--name", "stream-\(n)"], token: bootstrap, caCertificate: ca)
            if issued.status == 0 {
                acknowledged.append("stream-\(n)")
                let reader = live[(n + 1) % live.count]
                let verified = try await reader.jaco(["token", "list", "-o", "json"], token: issued.lastWord, caCertificate: ca)
                // A verify failure is a token error; a store hiccup during an election is not.
                if verified.status != 0 && verified.stderr.hasPrefix("token_") { verifyFailures.append("\(n): \(verified.stderr)") }
            }
        }
        #expect(verifyFailures.isEmpty, "\(verifyFailures)")
        #expect(acknowledged.count >= 20, "only \(acknowledged.count) of 24 issues were acknowledged")
        let final = try await daemons[1].jaco(["token", "list"], token: bootstrap, caCertificate: ca)
        #expect(final.status == 0, "\(final.stderr)")
        for name in acknowledged { #expect(final.stdout.contains(name), "\(name) was acknowledged but is missing") }
    }

    @Test("etcd stopped: jaco writes fail 'unavailable' in bounded time, verifies follow each daemon's down policy, service resumes")
    func outage() async throws {
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        // For the second daemon.
        let denyConfig = try Self.shippedConfig(replacing: "down_policy = \"extend-cache\"", with: "down_policy = \"deny\"")
        defer { try? FileManager.default.removeItem(at: denyConfig) }
        let extend = try Daemon(config: "etcd.toml", extraArguments: ["--etcd-endpoints", etcd.endpoints])
        let deny = try Daemon(config: denyConfig.path, extraArguments: ["--etcd-endpoints", etcd.endpoints])
        defer { extend.remove(); deny.remove() }
        try await extend.start()
        try await deny.start()
        let bootstrap = try await extend.jaco(["cluster", "init"]).lastWord
        let revoked = try await extend.jaco(["token", "issue", "--name", "gone"], token: bootstrap).lastWord
        #expect(try await extend.jaco(["token", "revoke", "gone"], token: bootstrap).status == 0)
        // Both daemons know the token is revoked before etcd goes away.
        for daemon in [extend, deny] {
            var known = false
            for _ in 0..<100 where !known {
                known = try await daemon.jaco(["token", "list"], token: revoked, caCertificate: extend.caCertificate).stderr.hasPrefix("token_revoked:")
            }
            #expect(known)
        }

        etcd.kill(0)
        let start = ContinuousClock.now
        let write = try await extend.jaco(["token", "issue", "--name", "during-outage"], token: bootstrap)
        #expect(write.status == 1 && write.stderr.hasPrefix("unavailable:"), "\(write.stderr)")
        #expect(ContinuousClock.now - start < .seconds(15), "the write took \(ContinuousClock.now - start) to fail")
        // extend-cache: the verify still runs from the cache (and rejects the revoked token);
        // deny: verifies fail 'unavailable' while the store is gone.
        let fromCache = try await extend.jaco(["token", "list"], token: revoked)
        #expect(fromCache.stderr.hasPrefix("token_revoked:"), "\(fromCache.stderr)")
        var denied = ""
        for _ in 0..<50 where !denied.contains("down policy is 'deny'") {
            denied = try await deny.jaco(["token", "list"], token: revoked, caCertificate: extend.caCertificate).stderr
        }
        #expect(denied.hasPrefix("unavailable:") && denied.contains("down policy is 'deny'"), "\(denied)")

        // etcd returns: both daemons serve again without a restart.
        try await etcd.restart(0)
        var issued = CommandResult(status: 1, stdout: "", stderr: "")
        for _ in 0..<50 where issued.status != 0 {
            issued = try await extend.jaco(["token", "issue", "--name", "after-outage"], token: bootstrap)
            if issued.status != 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(issued.status == 0, "\(issued.stderr)")
        var served = CommandResult(status: 1, stdout: "", stderr: "")
        for _ in 0..<50 where served.status != 0 {
            served = try await deny.jaco(["token", "list"], token: issued.lastWord, caCertificate: extend.caCertificate)
            if served.status != 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(served.status == 0 && served.stdout.contains("after-outage"), "\(served.stderr)")
    }

    /// One etcd member and one jacod on it with `timeout_ms` = `callTimeout`, bootstrapped;
    /// then the member is frozen (SIGSTOP: connections stay open, nothing answers) for `body`.
    static func withFrozenEtcd(callTimeout milliseconds: Int, _ body: (Daemon, _ bootstrap: String) async throws -> Void) async throws {
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        let config = try shippedConfig(replacing: "timeout_ms = 5000", with: "timeout_ms = \(milliseconds)")
        defer { try? FileManager.default.removeItem(at: config) }
        let daemon = try Daemon(config: config.path, extraArguments: ["--etcd-endpoints", etcd.endpoints])
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        etcd.freeze(0)
        defer { etcd.thaw(0) }
        try await body(daemon, bootstrap)
    }

    @Test("etcd frozen (SIGSTOP) past the etcd connections' keepalive timeout, a call to it timed out: SIGTERM still stops jacod, exit 0")
    func stopsWhileEtcdHangs() async throws {
        // A 1 s call timeout, so the failing call is short.
        try await Self.withFrozenEtcd(callTimeout: 1000) { daemon, bootstrap in
            let frozen = ContinuousClock.now
            let write = try await daemon.jaco(["token", "issue", "--name", "while-frozen"], token: bootstrap)
            #expect(write.status == 1 && write.stderr.hasPrefix("unavailable:"), "\(write.stderr)")
            // The watch connection's keepalive (10 s, 3 s to answer) gives up on the member and
            // reconnects; the new connection never completes. Closing the store used to wait
            // for it forever.
            try await Task.sleep(until: frozen + .seconds(15))
            // stop() sends SIGTERM and reports -1 when it had to SIGKILL after 15 s.
            #expect(await daemon.stop() == 0, "\(daemon.logText.suffix(2000))")
        }
    }

    @Test("SIGTERM while a call waits on a frozen etcd (20 s call timeout): the call is cut off after the 10 s drain limit, jacod exits 0")
    func drainLimit() async throws {
        try await Self.withFrozenEtcd(callTimeout: 20000) { daemon, bootstrap in
            // Three rounds of 20 s: this write would keep the daemon draining for a minute.
            async let write = daemon.jaco(["token", "issue", "--name", "while-frozen"], token: bootstrap)
            try await Task.sleep(for: .seconds(1))
            #expect(await daemon.stop() == 0, "\(daemon.logText.suffix(2000))")
            let cutOff = try await write
            #expect(cutOff.status == 1 && cutOff.stderr.hasPrefix("unavailable: jacod is shutting down"), "\(cutOff.stderr)")
            #expect(daemon.logText.contains("store closed"))
        }
    }

    @Test("Two daemons on an etcd that takes only TLS with client certificates: init, issue on one, revoke on the other, rejected on the first")
    func tlsToEtcd() async throws {
        let etcd = try await EtcdCluster.start(size: 1, tls: true)
        defer { etcd.stop() }
        let pki = try #require(etcd.certificates)
        // Configs/etcd.toml with its commented TLS keys filled in.
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-etcd-tls-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: config) }
        let shipped = try String(contentsOfFile: Build.config("etcd.toml"), encoding: .utf8)
        let withTLS = shipped
            .replacingOccurrences(of: "# ca_cert = \"etcd-ca.crt\"", with: "ca_cert = \"\(pki.caCertificate.path)\"")
            .replacingOccurrences(of: "# cert = \"etcd-client.crt\"", with: "cert = \"\(pki.clientCertificate.path)\"")
            .replacingOccurrences(of: "# key = \"etcd-client.key\"", with: "key = \"\(pki.clientKey.path)\"")
        #expect(withTLS != shipped)
        try withTLS.write(to: config, atomically: true, encoding: .utf8)
        let first = try Daemon(config: config.path, extraArguments: ["--etcd-endpoints", etcd.endpoints])
        let second = try Daemon(config: config.path, extraArguments: ["--etcd-endpoints", etcd.endpoints])
        defer { first.remove(); second.remove() }
        try await first.start()
        try await second.start()
        #expect(etcd.endpoints.hasPrefix("https://"))

        let bootstrap = try await first.jaco(["cluster", "init"]).lastWord
        let issued = try await first.jaco(["token", "issue", "--name", "over-tls"], token: bootstrap)
        #expect(issued.status == 0, "\(issued.stderr)")
        let revoked = try await second.jaco(["token", "revoke", "over-tls"], token: bootstrap, caCertificate: first.caCertificate)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        var rejected = ""
        for _ in 0..<100 where !rejected.hasPrefix("token_revoked:") {
            rejected = try await first.jaco(["token", "list"], token: issued.lastWord).stderr
        }
        #expect(rejected.hasPrefix("token_revoked:"), "\(rejected)")
    }
}
