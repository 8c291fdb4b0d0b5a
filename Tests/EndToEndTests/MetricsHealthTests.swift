import Foundation
import JacoTestKit
import Testing

/// The metrics listener and the health routes of a real `jacod`, scraped over HTTP.
@Suite("metrics and health end to end")
struct MetricsHealthTests {
    /// One scrape, parsed: `name{labels}` (as written) → value.
    struct Scrape {
        var values: [String: Double] = [:]

        init(_ text: String) {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
                values[String(line[..<space])] = value
            }
        }

        subscript(_ series: String) -> Double { values[series] ?? 0 }
    }

    static func scrape(_ client: ConsulClient) async throws -> Scrape {
        let answer = try await client.get("/metrics")
        #expect(answer.status == 200)
        #expect(answer.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        return Scrape(answer.body)
    }

    @Test("counters move with a verify failure, an issue, a revoke and a revoked token's call", arguments: ["sqlite.toml", "lmdb.toml"])
    func countersMove(config: String) async throws {
        let daemon = try Daemon(config: config)
        defer { daemon.remove() }
        try await daemon.start()
        let metrics = try ConsulClient(base: daemon.metricsBase, caCertificate: daemon.caCertificate)
        defer { Task { try? await metrics.shutdown() } }
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let engine = config.replacingOccurrences(of: ".toml", with: "")

        let before = try await Self.scrape(metrics)
        let garbage = try await daemon.jaco(["token", "list"], token: "jaco_notarealtoken")
        #expect(garbage.status == 1)
        let issued = try await daemon.jaco(["token", "issue", "--name", "alice"], token: bootstrap)
        #expect(issued.status == 0)
        let afterIssue = try await Self.scrape(metrics)
        #expect(afterIssue["jaco_verifications_total{outcome=\"invalid\"}"] == before["jaco_verifications_total{outcome=\"invalid\"}"] + 1)
        #expect(afterIssue["jaco_denials_total{code=\"token_invalid\"}"] == before["jaco_denials_total{code=\"token_invalid\"}"] + 1)
        #expect(afterIssue["jaco_writes_total{type=\"token_issue\"}"] == before["jaco_writes_total{type=\"token_issue\"}"] + 1)
        #expect(afterIssue["jaco_verifications_total{outcome=\"ok\"}"] == before["jaco_verifications_total{outcome=\"ok\"}"] + 1)
        #expect(afterIssue["jaco_store_commit_seconds_count{engine=\"\(engine)\"}"] == before["jaco_store_commit_seconds_count{engine=\"\(engine)\"}"] + 1)
        #expect(afterIssue["jaco_cached_tokens"] == 3)  // bootstrap, anonymous, alice
        #expect(afterIssue["jaco_change_feed_lag"] == 0)
        #expect(afterIssue["jaco_store_reachable"] == 1)

        #expect(try await daemon.jaco(["token", "revoke", "alice"], token: bootstrap).status == 0)
        let refused = try await daemon.jaco(["token", "list"], token: issued.lastWord)
        #expect(refused.stderr.hasPrefix("token_revoked:"))
        let afterRevoke = try await Self.scrape(metrics)
        #expect(afterRevoke["jaco_writes_total{type=\"token_revoke\"}"] == 1)
        #expect(afterRevoke["jaco_verifications_total{outcome=\"revoked\"}"] == afterIssue["jaco_verifications_total{outcome=\"revoked\"}"] + 1)
        #expect(afterRevoke["jaco_denials_total{code=\"token_revoked\"}"] == 1)
        #expect(afterRevoke["jaco_store_index"] == afterRevoke["jaco_applied_index"])
        #expect(afterRevoke["jaco_store_index"] > afterIssue["jaco_store_index"])
    }

    @Test("health is 200 throughout; ready is 503 before cluster init and 200 after, on both HTTP listeners")
    func healthAndReadiness() async throws {
        let daemon = try Daemon(config: "sqlite.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let metrics = try ConsulClient(base: daemon.metricsBase, caCertificate: daemon.caCertificate)
        let consul = try ConsulClient(base: daemon.httpBase, caCertificate: daemon.caCertificate)
        defer { Task { try? await metrics.shutdown(); try? await consul.shutdown() } }

        for client in [metrics, consul] {
            let health = try await client.get("/v1/jaco/health")
            #expect(health.status == 200)
            #expect(health.object["alive"] as? Bool == true)
            let ready = try await client.get("/v1/jaco/ready")
            #expect(ready.status == 503)
            #expect(ready.object["ready"] as? Bool == false)
            #expect(ready.object["initialized"] as? Bool == false)
            #expect(ready.object["store_reachable"] as? Bool == true)
            #expect((ready.object["problems"] as? [String])?.first?.contains("jaco cluster init") == true)
        }
        let statusBefore = try await daemon.jaco(["cluster", "status", "-o", "json"])
        #expect(statusBefore.status == 0)
        #expect(statusBefore.stdout.contains("\"ready\":false"))
        let notReady = try await daemon.jaco(["cluster", "status", "--wait", "1s", "--ready"])
        #expect(notReady.status == 1)
        #expect(notReady.stderr.hasPrefix("unavailable: the daemon answered but is not ready: the cluster is not initialized"), "\(notReady.stderr)")

        #expect(try await daemon.jaco(["cluster", "init"]).status == 0)
        for client in [metrics, consul] {
            #expect(try await client.get("/v1/jaco/health").status == 200)
            let ready = try await client.get("/v1/jaco/ready")
            #expect(ready.status == 200)
            #expect(ready.object["ready"] as? Bool == true)
            #expect((ready.object["problems"] as? [String]) == [])
        }
        #expect(try await daemon.jaco(["cluster", "status", "--wait", "1s", "--ready"]).status == 0)
        let statusAfter = try await daemon.jaco(["cluster", "status"])
        #expect(statusAfter.status == 0)
        let row = statusAfter.stdout.split(separator: "\n").dropFirst().first.map { $0.split(separator: " ", omittingEmptySubsequences: true) } ?? []
        #expect(row.first == "true")
        #expect(row.dropFirst().first == "yes")

        // The Consul client keeps its connection open; the scrape is one on the metrics listener.
        let scrape = try await Self.scrape(metrics)
        #expect(scrape["jaco_listener_connections{listener=\"https://127.0.0.1:\(daemon.httpPort)\"}"] >= 1, "\(scrape.values.filter { $0.key.hasPrefix("jaco_listener") })")
        #expect(scrape["jaco_listener_connections{listener=\"metrics+http://127.0.0.1:\(daemon.metricsPort)\"}"] >= 1)
        #expect(scrape.values.keys.contains("jaco_listener_connections{listener=\"grpc+unix://\(daemon.socket)\"}"))
    }

    @Test("a restart of an initialized daemon announces where it listens, not 'jaco cluster init'")
    func restartDoesNotSuggestInit() async throws {
        let daemon = try Daemon(config: "sqlite.toml")
        defer { daemon.remove() }
        try await daemon.start()
        #expect(daemon.logText.contains("jaco cluster init"))
        #expect(try await daemon.jaco(["cluster", "init"]).status == 0)
        await daemon.stop()
        try await daemon.start()  // the log starts anew
        #expect(daemon.logText.contains("jacod is ready (cluster initialized)"))
        #expect(!daemon.logText.contains("Next steps"))
        #expect(!daemon.logText.contains("jaco cluster init"))
    }
}
