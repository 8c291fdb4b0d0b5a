import Foundation
import JacoKernel
import JacoRuntime
import JacoTestKit
import Testing

/// What a daemon's kernel does when etcd goes away and comes back, on a real etcd.
@Suite("etcd outage", .serialized)
struct EtcdOutageTests {
    /// A kernel on `etcd`; a 2.5 s call timeout (1 s timed out reads on a loaded 2-core CI run).
    static func kernel(_ etcd: EtcdCluster, downPolicy: String, directory: URL) async throws -> Kernel {
        let config = try JacoConfig.parse("""
            [storage]
            engine = "etcd"
            endpoints = ["\(etcd.members[0].clientURL)"]
            timeout_ms = 2500
            down_policy = "\(downPolicy)"
            """, source: "outage.toml")
        return try await Runtime.startKernel(config, dataDirectory: directory)
    }

    @Test("With etcd down, writes fail 'unavailable' in bounded time, verifies follow the down policy, and service resumes by itself")
    func outage() async throws {
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-outage-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let extend = try await Self.kernel(etcd, downPolicy: "extend-cache", directory: directory)
        let deny = try await Self.kernel(etcd, downPolicy: "deny", directory: directory)
        defer { Task { try? await extend.shutdown(); try? await deny.shutdown() } }

        let bootstrap = try await extend.tokens.bootstrap()
        let op = try extend.tokens.verify(secret: bootstrap.secret)
        let alice = try await extend.tokens.issue(identity: "alice", by: op)
        // The other daemon sees it through the watch.
        var seen = false
        for _ in 0..<100 where !seen {
            seen = (try? deny.tokens.verify(secret: alice.secret)) != nil
            if !seen { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(seen)

        etcd.kill(0)
        let clock = ContinuousClock()
        let start = clock.now
        let write = await #expect(throws: JacoError.self) { _ = try await extend.tokens.issue(identity: "bob", by: op) }
        #expect(write?.code == .unavailable, "\(String(describing: write))")
        #expect(clock.now - start < .seconds(10), "the write took \(clock.now - start) to fail")

        // extend-cache keeps answering from the cache; deny refuses once the watch is down.
        #expect(try extend.tokens.verify(secret: alice.secret).identity == "alice")
        var denied: JacoError?
        for _ in 0..<100 where denied == nil {
            do { _ = try deny.tokens.verify(secret: alice.secret) } catch { denied = error }
            if denied == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(denied?.code == .unavailable, "\(String(describing: denied))")

        // etcd returns: writes succeed again and the deny daemon verifies again, on its own.
        try await etcd.restart(0)
        var bob: IssuedToken?
        for _ in 0..<100 where bob == nil {
            bob = try? await extend.tokens.issue(identity: "bob", by: op)
            if bob == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let issued = try #require(bob)
        var recovered = false
        for _ in 0..<200 where !recovered {
            recovered = (try? deny.tokens.verify(secret: issued.secret))?.identity == "bob"
            if !recovered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recovered)
        #expect(try await extend.audit.verifyChain().isIntact)
    }
}
