import Foundation
import JacoKernel
import JacoRuntime

/// How many callers issue at once in the concurrent column.
let concurrentIssuers = 64

/// Durable issues through the kernel on SQLite and LMDB (synchronous commits unless `syncOff`):
/// one caller, against the engine's raw commit of one key and of five; and `concurrentIssuers`
/// callers at once, whose writes group-commit, against the one caller.
func writeBenchmark(scratch: URL, writes: Int, syncOff: Bool) async throws {
    print("durable issue: one caller (one commit each) and \(concurrentIssuers) at once (group commits)")
    print("  engine   issue/s   raw 1-key commit/s   ratio   raw 5-key commit/s   ratio   \(concurrentIssuers) callers issue/s   vs one")
    var latencyLines: [(String, String)] = []
    for engine in ["sqlite", "lmdb"] {
        let directory = scratch.appendingPathComponent(engine)
        let noSync = syncOff ? (engine == "sqlite" ? "synchronous = \"off\"\n" : "sync = false\n") : ""
        let config = try JacoConfig.parse("[storage]\nengine = \"\(engine)\"\n\(noSync)", source: "bench")
        // Raw: the engine's own commit of one 256-byte key; and of five keys the size of an
        // issue's records (token, identity index, digest index, audit event, audit head).
        let oneKeyStore = try await Runtime.openStorage(config, dataDirectory: directory.appendingPathComponent("raw1"))
        let fiveKeyStore = try await Runtime.openStorage(config, dataDirectory: directory.appendingPathComponent("raw5"))
        // Issue: the kernel's whole write: records, indexes and a chained audit event in one commit.
        let kernel = try await Runtime.startKernel(config, dataDirectory: directory.appendingPathComponent("kernel"))
        let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
        // Rounds alternate between the four, so the disk's drift hits all alike.
        let rounds = 10
        let perRound = max(1, writes / rounds)
        var oneKey: [Double] = [], fiveKeys: [Double] = [], issues: [Double] = [], concurrent: [Double] = []
        var issueLatencies: [Double] = []
        var n = 0
        for round in 0..<rounds {
            var start = ContinuousClock.now
            for i in n..<n + perRound { try await oneKeyStore.commit(Transaction(writes: [.put("raw/\(i)", Data(repeating: 0x5A, count: 256))])) }
            oneKey.append(rate(perRound, since: start))
            start = ContinuousClock.now
            for i in n..<n + perRound {
                try await fiveKeyStore.commit(Transaction(writes: [
                    .put("t/\(UUID().uuidString)", Data(repeating: 1, count: 200)), .put("ti/bench-\(i)", Data(repeating: 2, count: 36)),
                    .put("td/\(UUID().uuidString)\(UUID().uuidString)", Data(repeating: 3, count: 36)),
                    .put("a/\(String(i, radix: 16))", Data(repeating: 4, count: 220)), .put("m/head", Data(repeating: 5, count: 41)),
                ]))
            }
            fiveKeys.append(rate(perRound, since: start))
            start = ContinuousClock.now
            for i in n..<n + perRound {
                let issueStart = ContinuousClock.now
                _ = try await kernel.tokens.issue(identity: "bench-\(i)", by: op)
                issueLatencies.append((ContinuousClock.now - issueStart).inSeconds * 1e6)
            }
            issues.append(rate(perRound, since: start))
            // Many callers: each issues its share, all at once.
            let each = max(1, perRound * 4 / concurrentIssuers)
            start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<concurrentIssuers {
                    group.addTask {
                        for i in 0..<each { _ = try await kernel.tokens.issue(identity: "many-\(round)-\(caller)-\(i)", by: op) }
                    }
                }
                try await group.waitForAll()
            }
            concurrent.append(rate(each * concurrentIssuers, since: start))
            n += perRound
        }
        try await oneKeyStore.close()
        try await fiveKeyStore.close()
        try await kernel.shutdown()
        latencyLines.append((engine, latencySummary(issueLatencies)))
        let (issueRate, oneRate, fiveRate, manyRate) = (median(issues), median(oneKey), median(fiveKeys), median(concurrent))
        print(
            "  \(engine.padding(toLength: 8, withPad: " ", startingAt: 0)) \(format(issueRate, 0).leftPadded(7))   \(format(oneRate, 0).leftPadded(18))   \(format(issueRate / oneRate, 2))x"
                + "   \(format(fiveRate, 0).leftPadded(18))   \(format(issueRate / fiveRate, 2))x   \(format(manyRate, 0).leftPadded(18))   \(format(manyRate / issueRate, 1))x")
    }
    for (engine, latencies) in latencyLines {
        print("  \(engine) one caller's issue latency: \(latencies)")
    }
    print("  (goals: one caller ≥ 0.8x the raw 1-key rate; \(concurrentIssuers) callers ≥ 10x one; medians of 10 alternating rounds)\n")
}

/// Median, 99th and 99.9th percentile and maximum of `latencies` (microseconds), as one line.
private func latencySummary(_ latencies: [Double]) -> String {
    let sorted = latencies.sorted()
    guard let last = sorted.last else { return "no samples" }
    return "p50 \(format(percentile(sorted, 0.5), 0)) µs, p99 \(format(percentile(sorted, 0.99), 0)) µs, p99.9 \(format(percentile(sorted, 0.999), 0)) µs, max \(format(last, 0)) µs (\(sorted.count) issues)"
}
