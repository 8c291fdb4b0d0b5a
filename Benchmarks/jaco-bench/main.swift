// Jaco's benchmark. Measures, in one run:
//  1. verify: ns per `TokenService.verify` against ns per bare SHA-256 of the same secret
//     (goal: ratio ≤ 1.5);
//  2. durable issue: tokens issued per second on each durable engine against that engine's raw
//     single-key insert+commit rate (goal: ratio ≥ 0.8).
//
//     swift run -c release jaco-bench [--dir <scratch dir>] [--verifies <n>] [--writes <n>] [--sync off]
//
// `--sync off` turns off the engines' flush at commit, to show the CPU cost alone.
import Crypto
import Foundation
import JacoKernel
import JacoRuntime

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else {
        print("usage: jaco-bench [--dir <scratch dir>] [--verifies <n>] [--writes <n>] [--sync off]")
        exit(2)
    }
    options[String(flag.dropFirst(2))] = value
}
/// What to measure, from the command line.
struct Settings: Sendable {
    var scratch: URL
    var verifies: Int
    var writes: Int
    var syncOff: Bool
}

let settings = Settings(
    scratch: URL(fileURLWithPath: options["dir"] ?? FileManager.default.temporaryDirectory.path)
        .appendingPathComponent("jaco-bench-\(UUID().uuidString)"),
    verifies: Int(options["verifies"] ?? "") ?? 2_000_000,
    writes: Int(options["writes"] ?? "") ?? 1_000,
    syncOff: options["sync"] == "off")
defer { try? FileManager.default.removeItem(at: settings.scratch) }

/// Median of `rounds` runs of `body`, in nanoseconds per operation.
func nanosecondsPerOperation(operations: Int, rounds: Int = 5, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        samples.append(Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
    }
    return samples.sorted()[rounds / 2] / Double(operations)
}

func format(_ value: Double, _ digits: Int = 1) -> String {
    String(format: "%.\(digits)f", value)
}

// The measurements run off the main actor, as the daemon's handlers do: top-level code is
// main-actor isolated, and every await from it would add two thread hops to each operation.
try await Task.detached { try await runBenchmarks(settings) }.value

@Sendable func runBenchmarks(_ settings: Settings) async throws {
    let (scratch, verifies, writes) = (settings.scratch, settings.verifies, settings.writes)
    // MARK: verify vs bare SHA-256

    print("Jaco benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(verifies) verifies, \(writes) durable writes per engine\n")
    let memory = try JacoConfig.parse("[storage]\nengine = \"memory\"\n", source: "bench")
    let kernel = try await Runtime.startKernel(memory, dataDirectory: scratch)
    let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
    var secrets: [String] = []
    for n in 0..<1024 { secrets.append(try await kernel.tokens.issue(identity: "bench-\(n)", by: op).secret) }

    var sink: UInt64 = 0
    // Rounds alternate between the two loops so that drift on a shared machine hits both alike.
    let rounds = 15
    let perRound = max(1, verifies / rounds)
    var verifySamples: [Double] = []
    var shaSamples: [Double] = []
    for _ in 0..<rounds {
        verifySamples.append(try nanosecondsPerOperation(operations: perRound, rounds: 1) {
            for i in 0..<perRound {
                let principal = try kernel.tokens.verify(secret: secrets[i & 1023])
                sink &+= UInt64(principal.allowsPrivileged ? 1 : 0)
            }
        })
        shaSamples.append(nanosecondsPerOperation(operations: perRound, rounds: 1) {
            for i in 0..<perRound {
                var secret = secrets[i & 1023]
                let digest = secret.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
                sink &+= digest.withUnsafeBytes { UInt64($0[0]) }
            }
        })
    }
    let verifyNs = verifySamples.sorted()[rounds / 2]
    let shaNs = shaSamples.sorted()[rounds / 2]
    try await kernel.shutdown()
    print("verify")
    print("  TokenService.verify     \(format(verifyNs)) ns/op")
    print("  bare SHA-256            \(format(shaNs)) ns/op")
    print("  ratio                   \(format(verifyNs / shaNs, 2))x   (goal ≤ 1.5x; medians of \(rounds) alternating rounds)\n")

    // MARK: durable issue vs raw insert+commit

    print("durable issue (sequential, one commit each)")
    print("  engine   issue/s   raw 1-key commit/s   ratio   raw 5-key commit/s   ratio")
    for engine in ["sqlite", "lmdb"] {
        let directory = scratch.appendingPathComponent(engine)
        let noSync = settings.syncOff ? (engine == "sqlite" ? "synchronous = \"off\"\n" : "sync = false\n") : ""
        let config = try JacoConfig.parse("[storage]\nengine = \"\(engine)\"\n\(noSync)", source: "bench")
        // Raw: the engine's own commit of one 256-byte key; and of five keys the size of an
        // issue's records (token, identity index, digest index, audit event, audit head).
        let oneKeyStore = try await Runtime.openStorage(config, dataDirectory: directory.appendingPathComponent("raw1"))
        let fiveKeyStore = try await Runtime.openStorage(config, dataDirectory: directory.appendingPathComponent("raw5"))
        // Issue: the kernel's whole write: records, indexes and a chained audit event in one commit.
        let kernel = try await Runtime.startKernel(config, dataDirectory: directory.appendingPathComponent("kernel"))
        let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
        // Rounds alternate between the three, so the disk's drift hits all alike.
        let rounds = 10
        let perRound = max(1, writes / rounds)
        var oneKey: [Double] = [], fiveKeys: [Double] = [], issues: [Double] = []
        var n = 0
        for _ in 0..<rounds {
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
            for i in n..<n + perRound { _ = try await kernel.tokens.issue(identity: "bench-\(i)", by: op) }
            issues.append(rate(perRound, since: start))
            n += perRound
        }
        try await oneKeyStore.close()
        try await fiveKeyStore.close()
        try await kernel.shutdown()
        let (issueRate, oneRate, fiveRate) = (median(issues), median(oneKey), median(fiveKeys))
        print("  \(engine.padding(toLength: 8, withPad: " ", startingAt: 0)) \(format(issueRate, 0).leftPadded(7))   \(format(oneRate, 0).leftPadded(18))   \(format(issueRate / oneRate, 2))x   \(format(fiveRate, 0).leftPadded(18))   \(format(issueRate / fiveRate, 2))x")
    }
    print("  (goal: issue/s ≥ 0.8x the raw 1-key rate; medians of 10 alternating rounds)")
    }

func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}

func rate(_ count: Int, since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}


extension String {
    func leftPadded(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
