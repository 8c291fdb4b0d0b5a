import Foundation
import JacoKernel
import JacoRuntime
import JacoTestKit

/// Revocation propagation on a three-member etcd: three kernels (what three daemons run), each
/// with its own etcd connections and watch, its preferred endpoint a different member. Each
/// round issues a token, waits until every kernel verifies it, revokes it on one kernel, and
/// times how long until each other kernel rejects it. Then verify throughput on a follower
/// against a single-node SQLite kernel.
func etcdBenchmark(scratch: URL, revocations: Int, verifies: Int) async throws {
    let etcd = try await EtcdCluster.start(size: 3)
    defer { etcd.stop() }
    var kernels: [Kernel] = []
    for n in 0..<3 {
        let urls = (0..<3).map { etcd.members[($0 + n) % 3].clientURL }
        let config = try JacoConfig.parse("[storage]\nengine = \"etcd\"\nendpoints = [\(urls.map { "\"\($0)\"" }.joined(separator: ", "))]\n", source: "bench-etcd")
        kernels.append(try await Runtime.startKernel(config, dataDirectory: scratch.appendingPathComponent("etcd-\(n)")))
    }
    let op = try kernels[0].tokens.verify(secret: try await kernels[0].tokens.bootstrap().secret)
    // Poll every 100 µs: spinning would take the CPU from the three etcd members on two cores.
    func waitUntil(_ condition: () -> Bool) async {
        while !condition() { try? await Task.sleep(for: .microseconds(100)) }
    }
    var delays: [Double] = []
    for round in 0..<revocations {
        let revoker = round % 3
        let issued = try await kernels[revoker].tokens.issue(identity: "prop-\(round)", by: op)
        for kernel in kernels { await waitUntil { (try? kernel.tokens.verify(secret: issued.secret)) != nil } }
        try await kernels[revoker].tokens.revoke(identity: "prop-\(round)", by: op)
        let returned = ContinuousClock.now
        for (index, kernel) in kernels.enumerated() where index != revoker {
            await waitUntil {
                do { _ = try kernel.tokens.verify(secret: issued.secret); return false } catch { return true }
            }
            let elapsed = ContinuousClock.now - returned
            delays.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
    }
    delays.sort()
    func percentile(_ p: Double) -> Double { delays[min(delays.count - 1, Int((Double(delays.count) * p).rounded(.up)) - 1)] }
    print("revocation propagation, 3 kernels on a 3-member etcd, \(revocations) revocations (\(delays.count) rejections timed)")
    print("  p50 \(format(percentile(0.5), 2)) ms   p99 \(format(percentile(0.99), 2)) ms   max \(format(delays.last ?? 0, 2)) ms   (promise ≤ 5 s; goal p99 < 50 ms)")

    // Verify throughput: a follower's cache against a single-node SQLite kernel's.
    let sqlite = try await Runtime.startKernel(try JacoConfig.parse("[storage]\nengine = \"sqlite\"\n", source: "bench"), dataDirectory: scratch.appendingPathComponent("verify-sqlite"))
    let sqliteOp = try sqlite.tokens.verify(secret: try await sqlite.tokens.bootstrap().secret)
    var followerSecrets: [String] = [], sqliteSecrets: [String] = []
    for n in 0..<256 {
        followerSecrets.append(try await kernels[0].tokens.issue(identity: "verify-\(n)", by: op).secret)
        sqliteSecrets.append(try await sqlite.tokens.issue(identity: "verify-\(n)", by: sqliteOp).secret)
    }
    let follower = kernels[1]
    for secret in followerSecrets { await waitUntil { (try? follower.tokens.verify(secret: secret)) != nil } }
    let rounds = 9, perRound = max(1, verifies / rounds)
    var followerRates: [Double] = [], sqliteRates: [Double] = []
    for _ in 0..<rounds {
        var start = ContinuousClock.now
        for i in 0..<perRound { _ = try follower.tokens.verify(secret: followerSecrets[i & 255]) }
        followerRates.append(rate(perRound, since: start))
        start = ContinuousClock.now
        for i in 0..<perRound { _ = try sqlite.tokens.verify(secret: sqliteSecrets[i & 255]) }
        sqliteRates.append(rate(perRound, since: start))
    }
    print("verify throughput, one thread")
    print("  follower on etcd        \(format(median(followerRates) / 1e6, 2)) M verifies/s")
    print("  single-node SQLite      \(format(median(sqliteRates) / 1e6, 2)) M verifies/s")
    print("  ratio                   \(format(median(followerRates) / median(sqliteRates), 2))x   (medians of \(rounds) alternating rounds)")
    for kernel in kernels { try await kernel.shutdown() }
    try await sqlite.shutdown()
}
