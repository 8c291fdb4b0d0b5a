// Jaco's benchmark. Measures, in one run:
//  1. verify: ns per `TokenService.verify` against ns per bare SHA-256 of the same secret
//     (goal: ratio ≤ 1.5);
//  2. durable issue: tokens issued per second on each durable engine against that engine's raw
//     single-key insert+commit rate (goal: ratio ≥ 0.8);
//  3. gRPC: authenticated unary calls per second over TLS with N concurrent clients, against the
//     same call with authentication skipped (goal: ratio ≥ 0.95);
//  4. etcd (with `--only etcd`, or after the rest when etcd is installed): revocation propagation
//     between three jacod on a three-member etcd (p50, p99, max), and verify throughput over gRPC
//     on a follower jacod against a single-node SQLite jacod. Needs the release jacod:
//     `swift build -c release --product jacod` first.
//  5. scale (`--only scale`): a million-token store, listed and served (ScaleBenchmark.swift).
//  6. snapshot (`--only snapshot`): save, restore and migrate of 100,000 tokens with the real
//     jaco and jacod (SnapshotBenchmark.swift); needs the release jaco and jacod.
//
//     swift run -c release jaco-bench [--dir <scratch dir>] [--verifies <n>] [--writes <n>] [--sync off]
//                                     [--clients <n>] [--seconds <per round>] [--revocations <n>] [--only etcd|verify|write|scale|snapshot] [--tokens <n>] [--keep yes] [--reuse <dir>]
//
// `--sync off` turns off the engines' flush at commit, to show the CPU cost alone.
import Crypto
import Foundation
import GRPCTransport
import JacoKernel
import JacoRuntime
import OpenSSLHasher
import JacoTestKit

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else {
        print("usage: jaco-bench [--dir <scratch dir>] [--verifies <n>] [--writes <n>] [--sync off] [--clients <n>] [--seconds <per round>] [--revocations <n>] [--only etcd|verify|write|scale|snapshot] [--tokens <n>] [--keep yes] [--reuse <dir of kept stores>]")
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
    var clients: Int
    var seconds: Double
    var revocations: Int
    /// `--only etcd`, `--only verify`, `--only scale` or `--only snapshot`: run that part alone.
    var only: String?
    /// Tokens in the scale benchmark's stores.
    var tokens: Int
    /// `--keep yes`: leave the scale benchmark's stores beside the scratch directory.
    var keep: Bool
    /// `--reuse <dir>`: measure the scale benchmark's stores kept there, without loading.
    var reuse: URL?
}

let settings = Settings(
    scratch: URL(fileURLWithPath: options["dir"] ?? FileManager.default.temporaryDirectory.path)
        .appendingPathComponent("jaco-bench-\(UUID().uuidString)"),
    verifies: Int(options["verifies"] ?? "") ?? 2_000_000,
    writes: Int(options["writes"] ?? "") ?? 1_000,
    syncOff: options["sync"] == "off",
    clients: Int(options["clients"] ?? "") ?? 8,
    seconds: Double(options["seconds"] ?? "") ?? 3,
    revocations: Int(options["revocations"] ?? "") ?? 200,
    only: options["only"], tokens: Int(options["tokens"] ?? "") ?? 1_000_000, keep: options["keep"] == "yes",
    reuse: options["reuse"].map { URL(fileURLWithPath: $0) })
defer { try? FileManager.default.removeItem(at: settings.scratch) }

/// Median of `rounds` runs of `body`, in nanoseconds per operation.
func nanosecondsPerOperation(operations: Int, rounds: Int = 5, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        samples.append(elapsed.inSeconds * 1e9)
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
    if settings.only == "snapshot" {
        try await snapshotBenchmark(scratch: scratch, tokens: options["tokens"].flatMap { Int($0) } ?? 100_000)
        return
    }
    if settings.only == "scale" {
        try await scaleBenchmark(scratch: scratch, tokens: settings.tokens, keep: settings.keep, reuse: settings.reuse)
        return
    }
    if settings.only == "write" {
        try await writeBenchmark(scratch: scratch, writes: writes, syncOff: settings.syncOff)
        return
    }
    if settings.only == "etcd" {
        try await etcdBenchmark(scratch: scratch, revocations: settings.revocations, clients: settings.clients, seconds: settings.seconds)
        return
    }
    // MARK: verify vs bare SHA-256

    print("Jaco benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(verifies) verifies, \(writes) durable writes per engine\n")
    // One kernel per hashing provider; metrics recorded as the daemon records them (Prometheus
    // counters on the verify path).
    var kernels: [(provider: String, kernel: Kernel, secrets: [String])] = []
    for provider in ["swift-crypto", "openssl"] {
        let config = try JacoConfig.parse("[storage]\nengine = \"memory\"\n[hashing]\nprovider = \"\(provider)\"\n", source: "bench")
        let kernel = try await Runtime.startKernel(config, dataDirectory: scratch, metrics: Runtime.makeMetricsExporter())
        let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
        var secrets: [String] = []
        for n in 0..<1024 { secrets.append(try await kernel.tokens.issue(identity: "bench-\(n)", by: op).secret) }
        kernels.append((provider, kernel, secrets))
    }
    let openssl = try OpenSSLHasherPlugin.sha256()
    let secrets = kernels[0].secrets

    var sink: UInt64 = 0
    // Rounds alternate between the loops so that drift on a shared machine hits all alike.
    let rounds = 15
    let perRound = max(1, verifies / rounds)
    var verifySamples: [[Double]] = Array(repeating: [], count: kernels.count)
    var swiftCryptoSamples: [Double] = []
    var opensslSamples: [Double] = []
    for _ in 0..<rounds {
        for (index, entry) in kernels.enumerated() {
            verifySamples[index].append(try nanosecondsPerOperation(operations: perRound, rounds: 1) {
                for i in 0..<perRound {
                    let principal = try entry.kernel.tokens.verify(secret: entry.secrets[i & 1023])
                    sink &+= UInt64(principal.allowsPrivileged ? 1 : 0)
                }
            })
        }
        swiftCryptoSamples.append(nanosecondsPerOperation(operations: perRound, rounds: 1) {
            for i in 0..<perRound {
                // Read in place, as the verify path reads a secret (a `withUTF8` copy adds a
                // reference count to the hash).
                let digest = secrets[i & 1023].utf8.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }!
                sink &+= digest.withUnsafeBytes { UInt64($0[0]) }
            }
        })
        opensslSamples.append(nanosecondsPerOperation(operations: perRound, rounds: 1) {
            for i in 0..<perRound {
                let digest = secrets[i & 1023].utf8.withContiguousStorageIfAvailable { openssl.contentHash(UnsafeRawBufferPointer($0)) }!
                sink &+= digest == Digest256.zero ? 1 : 0
            }
        })
    }
    let verifyNs = verifySamples.map { $0.sorted()[rounds / 2] }
    let (swiftCryptoNs, opensslNs) = (swiftCryptoSamples.sorted()[rounds / 2], opensslSamples.sorted()[rounds / 2])
    // The ratio is against the fastest SHA-256 this machine has, so a faster hasher cannot hide
    // a slower verify path.
    let shaNs = min(swiftCryptoNs, opensslNs)
    for entry in kernels { try await entry.kernel.shutdown() }
    print("verify")
    for (index, entry) in kernels.enumerated() {
        print("  " + "TokenService.verify, \(entry.provider)".padding(toLength: 34, withPad: " ", startingAt: 0) + "\(format(verifyNs[index])) ns/op")
    }
    print("  " + "bare SHA-256, swift-crypto".padding(toLength: 34, withPad: " ", startingAt: 0) + "\(format(swiftCryptoNs)) ns/op")
    print("  " + "bare SHA-256, openssl".padding(toLength: 34, withPad: " ", startingAt: 0) + "\(format(opensslNs)) ns/op")
    print("  ratio, fastest verify to fastest SHA-256   \(format((verifyNs.min() ?? 0) / shaNs, 2))x   (goal ≤ 1.3x; medians of \(rounds) alternating rounds)\n")
    if settings.only == "verify" { return }

    // MARK: durable issue vs raw insert+commit, one caller and many

    try await writeBenchmark(scratch: scratch, writes: writes, syncOff: settings.syncOff)
    try await grpcBenchmark(scratch: scratch, clients: settings.clients, seconds: settings.seconds)
    if EtcdCluster.binary != nil {
        print("")
        try await etcdBenchmark(scratch: scratch, revocations: settings.revocations, clients: settings.clients, seconds: settings.seconds)
    }
}

func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}

/// The nearest-rank `p` quantile (0 < p ≤ 1) of `sorted`, which is in ascending order and not empty.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
}

func rate(_ count: Int, since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(count) / elapsed.inSeconds
}

extension Duration {
    /// The duration in seconds.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}


extension String {
    func leftPadded(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}

/// Two TLS listeners on one memory kernel, one authenticating and one not; N clients call
/// `TokenService.ListTokens` in a loop against each in turn.
func grpcBenchmark(scratch: URL, clients: Int, seconds: Double) async throws {
    let config = try JacoConfig.parse("[storage]\nengine = \"memory\"\n", source: "bench")
    let directory = scratch.appendingPathComponent("grpc")
    let kernel = try await Runtime.startKernel(config, dataDirectory: directory)
    let secret = try await kernel.tokens.bootstrap().secret
    let tls = try TLSSetup.resolve(config, dataDirectory: directory).files
    var ports: [Bool: Int] = [:]
    var servers: [Task<Void, any Error>] = []
    for authenticate in [true, false] {
        let listener = GRPCTransportPlugin.tcpListener(host: "127.0.0.1", port: 0, tls: TLSSettings(files: tls), authenticate: authenticate)
        let (addresses, continuation) = AsyncStream<String>.makeStream()
        servers.append(Task { try await listener.serve(kernel) { continuation.yield($0) } })
        var iterator = addresses.makeAsyncIterator()
        ports[authenticate] = Int(try require(await iterator.next(), "listening address").split(separator: ":").last!)!
    }
    func callsPerSecondOver(authenticate: Bool) async throws -> Double {
        let client = JacoClient(target: .tls(host: "127.0.0.1", port: ports[authenticate]!, caCertificate: tls.caCertificate.path), token: authenticate ? secret : nil)
        return try await callsPerSecond(client, clients: clients, seconds: seconds) { _ = try await $0.list(pageSize: 0, pageToken: "") }
    }
    let rounds = 5
    var authenticated: [Double] = [], skipped: [Double] = []
    for _ in 0..<rounds {
        authenticated.append(try await callsPerSecondOver(authenticate: true))
        skipped.append(try await callsPerSecondOver(authenticate: false))
    }
    for server in servers { server.cancel() }
    for server in servers { try? await server.value }
    try await kernel.shutdown()
    let (withAuth, withoutAuth) = (median(authenticated), median(skipped))
    print("gRPC over TLS, ListTokens, \(clients) concurrent clients (one connection each)")
    print("  authenticated           \(format(withAuth, 0)) calls/s")
    print("  authentication skipped  \(format(withoutAuth, 0)) calls/s")
    print("  ratio                   \(format(withAuth / withoutAuth, 2))x   (goal ≥ 0.95x; medians of \(rounds) alternating rounds)")
}

enum BenchError: Error { case missing(String) }

/// The value, or an error naming what was missing.
func require<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw BenchError.missing(what) }
    return value
}
