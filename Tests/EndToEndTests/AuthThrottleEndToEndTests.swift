import Foundation
import Testing

/// Brute-force throttling on the real daemon: failed authentications are limited per source
/// address on the gRPC and Consul HTTP listeners (429 with Retry-After; RESOURCE_EXHAUSTED
/// `rate_limited`), another address is not slowed, the unix socket is exempt, and the failures
/// reach the audit log in aggregate without the secrets.
@Suite("Failed-authentication throttling end to end")
struct AuthThrottleEndToEndTests {
    /// One curl call from `source` (a loopback address of this host): status, headers, body.
    static func curl(_ url: String, caCertificate: String, token: String, from source: String) async throws -> (status: Int, headers: String, body: String) {
        let headers = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-curl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: headers) }
        let run = try await offPool {
            try runToCompletion(
                URL(fileURLWithPath: "/usr/bin/curl"),
                ["-s", "--cacert", caCertificate, "--interface", source, "-H", "X-Consul-Token: \(token)", "-D", headers.path, "-w", "\n%{http_code}", url], timeout: 30)
        }
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? -1
        return (status, (try? String(contentsOf: headers, encoding: .utf8)) ?? "", lines.dropLast().joined(separator: "\n"))
    }

    @Test("Past failed_auth_burst an address is refused with the wait (HTTP 429 Retry-After, gRPC rate_limited); other addresses and the unix socket are not; the audit log tallies it")
    func throttling() async throws {
        let limits = "failed_auth_burst = 3\nfailed_auth_per_second = 0.001"
        let config = try editedConfig(
            "memory.toml", [adding(limits, after: ListenerLine.grpc), adding(limits, after: ListenerLine.consulHTTP)],
            appending: "\n[tokens]\nfailed_auth_audit = \"1s\"\n")
        defer { try? FileManager.default.removeItem(at: config) }
        let daemon = try Daemon(config: config.path)
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let guess = "00000000-0000-4000-8000-00000000beef"
        let selfURL = "\(daemon.httpBase)/v1/acl/token/self"

        // Consul HTTP: three failures from 127.0.0.1 are 403; the fourth call is 429, even with
        // the right secret; 127.0.0.2 is served and has its own bucket.
        for _ in 0..<3 {
            let failed = try await Self.curl(selfURL, caCertificate: daemon.caCertificate, token: guess, from: "127.0.0.1")
            #expect(failed.status == 403 && failed.body == "ACL not found", "\(failed)")
        }
        let refused = try await Self.curl(selfURL, caCertificate: daemon.caCertificate, token: bootstrap, from: "127.0.0.1")
        #expect(refused.status == 429, "\(refused)")
        #expect(refused.body.hasPrefix("too many failed authentications from 127.0.0.1; try again in "), "\(refused.body)")
        // One try comes back after 1/0.001 s (less what has refilled since the failures).
        let retryAfter = refused.headers.lowercased().firstMatch(of: /retry-after: (\d+)\r\n/).flatMap { Int($0.1) }
        #expect(retryAfter.map { (990...1000).contains($0) } == true, "\(refused.headers)")
        let elsewhere = try await Self.curl(selfURL, caCertificate: daemon.caCertificate, token: bootstrap, from: "127.0.0.2")
        #expect(elsewhere.status == 200, "another address is not slowed: \(elsewhere)")
        let elsewhereFails = try await Self.curl(selfURL, caCertificate: daemon.caCertificate, token: guess, from: "127.0.0.2")
        #expect(elsewhereFails.status == 403, "\(elsewhereFails)")

        // gRPC (its own listener, its own buckets): three token_invalid, then rate_limited.
        for _ in 0..<3 {
            let failed = try await daemon.jaco(["token", "list"], token: guess)
            #expect(failed.status != 0 && failed.stderr.contains("token_invalid"), "\(failed.stderr)")
        }
        let grpcRefused = try await daemon.jaco(["token", "list"], token: bootstrap)
        #expect(grpcRefused.status != 0 && grpcRefused.stderr.contains("rate_limited"), "\(grpcRefused.stderr)")
        #expect(grpcRefused.stderr.firstMatch(of: /too many failed authentications from 127\.0\.0\.1; try again in (?:99\d|1000)s/) != nil, "\(grpcRefused.stderr)")
        // The unix socket is exempt.
        let local = try await jaco(["token", "list", "--socket", daemon.socket])
        #expect(local.status == 0, "\(local.stderr)")

        // The audit log gets one aggregate event per listener and period, naming the address,
        // never the presented secret. A period boundary can split a listener's tally over two
        // events: wait until the sums are complete (or the deadline), then check them.
        var events: [[String: Any]] = []
        var http: [[String: String]] = [], grpc: [[String: String]] = []
        func sum(_ payloads: [[String: String]], _ field: String) -> Int {
            payloads.reduce(0) { $0 + (Int($1[field] ?? "") ?? 0) }
        }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let audit = try await jaco(["audit", "--type", "auth_failures", "-o", "json", "--socket", daemon.socket])
            #expect(audit.status == 0, "\(audit.stderr)")
            #expect(!audit.stdout.contains(guess) && !audit.stdout.contains(bootstrap), "a secret reached the audit log")
            events = (try? JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]]) ?? []
            let payloads = events.compactMap { $0["payload"] as? [String: String] }
            http = payloads.filter { $0["listener"]?.hasPrefix("https://") == true }
            grpc = payloads.filter { $0["listener"]?.hasPrefix("grpc+tls://") == true }
            if sum(http, "failures") >= 4, sum(http, "refused") >= 1, sum(grpc, "failures") >= 3, sum(grpc, "refused") >= 1 { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(sum(http, "failures") == 4, "\(http)")
        #expect(sum(http, "refused") == 1, "\(http)")
        #expect(sum(grpc, "failures") == 3, "\(grpc)")
        #expect(sum(grpc, "refused") == 1, "\(grpc)")
        #expect(http.contains { $0["sources"]?.hasPrefix("127.0.0.1 failed ") == true }, "\(http)")
        #expect(events.allSatisfy { ($0["identity"] as? String) == "jacod" })
    }
}
