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
let scratch = URL(fileURLWithPath: options["dir"] ?? FileManager.default.temporaryDirectory.path)
    .appendingPathComponent("jaco-bench-\(UUID().uuidString)")
let verifies = Int(options["verifies"] ?? "") ?? 2_000_000
let writes = Int(options["writes"] ?? "") ?? 1_000
defer { try? FileManager.default.removeItem(at: scratch) }

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
print("  engine   issue/s   raw insert+commit/s   ratio   (goal ≥ 0.8)")
for engine in ["sqlite", "lmdb"] {
    let directory = scratch.appendingPathComponent(engine)
    let noSync = options["sync"] == "off" ? (engine == "sqlite" ? "synchronous = \"off\"\n" : "sync = false\n") : ""
    let config = try JacoConfig.parse("[storage]\nengine = \"\(engine)\"\n\(noSync)", source: "bench")
    // Raw: the engine's own commit of one 256-byte key, as many times.
    let raw = try await Runtime.openStorage(config, dataDirectory: directory.appendingPathComponent("raw"))
    let value = Data(repeating: 0x5A, count: 256)
    let rawStart = ContinuousClock.now
    for n in 0..<writes { try await raw.commit(Transaction(writes: [.put("raw/\(n)", value)])) }
    let rawElapsed = ContinuousClock.now - rawStart
    try await raw.close()
    // Issue: a token record, two index entries and a chained audit event in one commit.
    let kernel = try await Runtime.startKernel(config, dataDirectory: directory.appendingPathComponent("kernel"))
    let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
    let issueStart = ContinuousClock.now
    for n in 0..<writes { _ = try await kernel.tokens.issue(identity: "bench-\(n)", by: op) }
    let issueElapsed = ContinuousClock.now - issueStart
    try await kernel.shutdown()
    let rawRate = Double(writes) / (Double(rawElapsed.components.seconds) + Double(rawElapsed.components.attoseconds) / 1e18)
    let issueRate = Double(writes) / (Double(issueElapsed.components.seconds) + Double(issueElapsed.components.attoseconds) / 1e18)
    print("  \(engine.padding(toLength: 8, withPad: " ", startingAt: 0)) \(format(issueRate, 0).leftPadded(7))   \(format(rawRate, 0).leftPadded(19))   \(format(issueRate / rawRate, 2))x")
}
if sink == 42 { print("") }  // keeps the measured work from being optimized away

extension String {
    func leftPadded(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
