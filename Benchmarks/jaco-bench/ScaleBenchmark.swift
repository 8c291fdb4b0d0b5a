import AsyncHTTPClient
import Foundation
import JacoKernel
import JacoRuntime
import NIOCore
import NIOHTTP1
import NIOSSL

/// `--only scale [--tokens N]`: a store of N tokens (default 1 M) on SQLite and LMDB, loaded
/// through the kernel in batches of 1000, then served by a real `jacod`: bytes per token on
/// disk, start to ready, resident memory, `jaco token list > /dev/null` and Consul's
/// `GET /v1/acl/tokens` (first row, whole listing, the daemon's RSS growth during it), and
/// `token/self` p99 alone and during a full listing.
/// With `keep`, the stores stay beside the scratch directory for a look afterwards, each with
/// its bootstrap secret in `bench-token` (0600); `reuse` names a directory holding such kept
/// stores, measured again without loading them (`tokens` must be what they hold).
func scaleBenchmark(scratch: URL, tokens: Int, keep: Bool = false, reuse: URL? = nil) async throws {
    print("scale: \(tokens) tokens per engine (\(reuse == nil ? "loaded in batches of 1000 through the kernel" : "kept stores in \(reuse!.path)"))\n")
    for engine in ["sqlite", "lmdb"] {
        let directory = reuse?.appendingPathComponent("jaco-scale-\(engine)") ?? scratch.appendingPathComponent("scale-\(engine)")
        let configPath = directory.appendingPathComponent("jaco.toml")
        let tokenFile = directory.appendingPathComponent("bench-token")
        let bootstrap: String
        var loadSeconds: Double?
        if reuse != nil {
            if let kept = try? String(contentsOf: tokenFile, encoding: .utf8) {
                bootstrap = kept.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                bootstrap = try await managementToken(JacoConfig.load(path: configPath.path), in: directory)
                _ = FileManager.default.createFile(atPath: tokenFile.path, contents: Data((bootstrap + "\n").utf8), attributes: [.posixPermissions: 0o600])
            }
        } else {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let storage = engine == "sqlite" ? "[storage]\nengine = \"sqlite\"\n" : "[storage]\nengine = \"lmdb\"\nmap_size = \"32GiB\"\n"
            try storage.write(to: configPath, atomically: true, encoding: .utf8)
            let loaded = try await loadTokens(JacoConfig.load(path: configPath.path), into: directory, count: tokens)
            (bootstrap, loadSeconds) = (loaded.0, loaded.1)
        }
        let diskBytes = directorySize(directory)
        let started = ContinuousClock.now
        let daemon = try await BenchDaemon(config: configPath.path, dataDirectory: directory)
        defer { daemon.stop() }
        let readySeconds = (ContinuousClock.now - started).inSeconds
        let restingRSS = daemon.residentBytes

        let cli = try await measuringRSS(of: daemon) { try await cliListing(daemon, token: bootstrap) }
        let http = try await ConsulBench(daemon: daemon, token: bootstrap)
        defer { Task { try? await http.shutdown() } }
        let consul = try await measuringRSS(of: daemon) { try await http.listTokens() }
        let idleP99 = try await http.selfLatencyP99(samples: 1000)
        let busyP99 = try await http.selfLatencyP99DuringListing(samples: 1000)

        print("\(engine)")
        if let loadSeconds {
            print("  load                      \(format(loadSeconds)) s (\(format(Double(tokens) / loadSeconds, 0)) tokens/s)")
        }
        print("  on disk                   \(format(Double(diskBytes) / Double(tokens), 0)) bytes per token (\(diskBytes >> 20) MiB, audit events included)")
        print("  start to ready            \(format(readySeconds, 2)) s, RSS \(restingRSS >> 20) MiB (\(restingRSS / tokens) bytes per cached token)")
        print("  jaco token list           first row \(format(cli.result.first * 1000, 0)) ms, all \(format(cli.result.total, 2)) s (\(cli.result.rows) rows), RSS +\(cli.growth >> 20) MiB")
        print("  GET /v1/acl/tokens        first byte \(format(consul.result.first * 1000, 0)) ms, all \(format(consul.result.total, 2)) s (\(consul.result.rows >> 20) MiB), RSS +\(consul.growth >> 20) MiB")
        print("  token/self p99            \(format(idleP99 * 1000, 2)) ms alone, \(format(busyP99 * 1000, 2)) ms during a listing (\(format(busyP99 / idleP99, 2))x)")
        print("  (goals: first row ≤ 200 ms, all ≤ 5 s, RSS growth ≤ 32 MiB, p99 during ≤ 2x alone)\n")
        if reuse != nil { continue }
        if keep {
            _ = FileManager.default.createFile(atPath: tokenFile.path, contents: Data((bootstrap + "\n").utf8), attributes: [.posixPermissions: 0o600])
            let kept = scratch.deletingLastPathComponent().appendingPathComponent("jaco-scale-\(engine)")
            try? FileManager.default.removeItem(at: kept)
            try FileManager.default.moveItem(at: directory, to: kept)
            print("  kept the store in \(kept.path)\n")
        } else {
            try? FileManager.default.removeItem(at: directory)
        }
    }
}

/// What one listing took: time to the first row (or byte), total time, rows (or bytes).
struct ListingTiming: Sendable {
    var first: Double
    var total: Double
    var rows: Int
}

/// Bootstraps a store and issues `count` tokens into it; returns the bootstrap secret and the seconds it took.
func loadTokens(_ config: JacoConfig, into directory: URL, count: Int) async throws -> (String, Double) {
    let kernel = try await Runtime.startKernel(config, dataDirectory: directory)
    let bootstrap = try await kernel.tokens.bootstrap()
    let op = try kernel.tokens.verify(secret: bootstrap.secret)
    let start = ContinuousClock.now
    var issued = 0
    while issued < count {
        let batch = (issued..<min(count, issued + 1000)).map { "scale-\($0)" }
        _ = try await kernel.tokens.issue(identities: batch, by: op)
        issued += batch.count
        if issued % 100_000 == 0 || issued == count {
            print("  loaded \(issued)/\(count) (\(format((ContinuousClock.now - start).inSeconds, 1)) s)")
        }
    }
    let seconds = (ContinuousClock.now - start).inSeconds
    try await kernel.shutdown()
    return (bootstrap.secret, seconds)
}

/// A new global-management token in a store made without `bench-token` (its secret).
private func managementToken(_ config: JacoConfig, in directory: URL) async throws -> String {
    let kernel = try await Runtime.startKernel(config, dataDirectory: directory)
    var request = TokenRequest()
    request.description = "jaco-bench --reuse"
    request.policies = [ACLLink(id: BuiltIn.globalManagementPolicyID)]
    let issued = try await kernel.acl.createToken(request, by: .system("jaco-bench"))
    try await kernel.shutdown()
    return issued.secret
}

private func directorySize(_ directory: URL) -> Int {
    let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey])
    var total = 0
    while let file = files?.nextObject() as? URL {
        total += (try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
    }
    return total
}

/// Runs `body` while sampling the daemon's resident memory every 10 ms; the growth is the
/// largest sample less the one before.
private func measuringRSS<R: Sendable>(of daemon: BenchDaemon, _ body: @escaping @Sendable () async throws -> R) async throws -> (result: R, growth: Int) {
    let before = daemon.residentBytes
    let sampler = Task {
        var peak = before
        while !Task.isCancelled {
            peak = max(peak, daemon.residentBytes)
            try? await Task.sleep(for: .milliseconds(10))
        }
        return peak
    }
    let result = try await body()
    sampler.cancel()
    return (result, max(0, await sampler.value - before))
}

/// `jaco token list > /dev/null` with the real CLI: time to its first output, to its exit.
private func cliListing(_ daemon: BenchDaemon, token: String) async throws -> ListingTiming {
    let jaco = BenchDaemon.binary.deletingLastPathComponent().appendingPathComponent("jaco")
    let process = Process()
    process.executableURL = jaco
    process.arguments = ["token", "list", "--server", "127.0.0.1:\(daemon.port)", "--ca-cert", daemon.caCertificate, "--token", token]
    let out = Pipe()
    process.standardOutput = out
    let start = ContinuousClock.now
    try process.run()
    return try await Task.detached {
        var first: Double?
        var lines = 0
        while true {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            if first == nil { first = (ContinuousClock.now - start).inSeconds }
            lines += chunk.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError.missing("a successful jaco token list (exit \(process.terminationStatus))") }
        return ListingTiming(first: first ?? 0, total: (ContinuousClock.now - start).inSeconds, rows: lines - 1)
    }.value
}

/// Consul API calls over HTTPS with one keep-alive client pinning the cluster CA.
final class ConsulBench: Sendable {
    private let client: HTTPClient
    private let base: String
    private let token: String

    init(daemon: BenchDaemon, token: String) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(daemon.caCertificate))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        base = "https://127.0.0.1:\(daemon.httpPort)"
        self.token = token
    }

    private func request(_ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "X-Consul-Token", value: token)
        return request
    }

    /// `GET /v1/acl/tokens`, read as it streams: time to the first byte, to the last; bytes.
    func listTokens() async throws -> ListingTiming {
        let start = ContinuousClock.now
        let response = try await client.execute(request("/v1/acl/tokens"), timeout: .seconds(600))
        var first: Double?
        var bytes = 0
        for try await chunk in response.body {
            if first == nil { first = (ContinuousClock.now - start).inSeconds }
            bytes += chunk.readableBytes
        }
        return ListingTiming(first: first ?? 0, total: (ContinuousClock.now - start).inSeconds, rows: bytes)
    }

    /// p99 of `samples` sequential `GET /v1/acl/token/self`, in seconds.
    func selfLatencyP99(samples: Int) async throws -> Double {
        var latencies: [Double] = []
        for _ in 0..<samples {
            let start = ContinuousClock.now
            let response = try await client.execute(request("/v1/acl/token/self"), timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            latencies.append((ContinuousClock.now - start).inSeconds)
        }
        return latencies.sorted()[samples * 99 / 100]
    }

    /// The same while full token listings run one after another on another connection.
    func selfLatencyP99DuringListing(samples: Int) async throws -> Double {
        let listing = Task {
            while !Task.isCancelled { _ = try? await listTokens() }
        }
        defer { listing.cancel() }
        try await Task.sleep(for: .milliseconds(100))
        return try await selfLatencyP99(samples: samples)
    }

    func shutdown() async throws { try await client.shutdown() }
}
