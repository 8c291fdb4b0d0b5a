import Foundation
import GRPCTransport
import JacoTestKit

/// A real `jacod` child process for the benchmark: the release binary next to `jaco-bench`,
/// one of the shipped configs, its own data directory and a free gRPC port.
final class BenchDaemon: @unchecked Sendable {
    let dataDirectory: URL
    let port: Int
    /// The Consul HTTPS API's port.
    let httpPort = freePort()
    private let process = Process()
    private let log: URL

    /// The cluster CA this daemon's certificate chains to.
    var caCertificate: String { dataDirectory.appendingPathComponent("tls/ca.crt").path }

    /// A client for this daemon, pinning `caCertificate` (default: this daemon's own).
    func client(token: String?, caCertificate: String? = nil) -> JacoClient {
        JacoClient(target: .tls(host: "127.0.0.1", port: port, caCertificate: caCertificate ?? self.caCertificate), token: token)
    }

    /// The `jacod` binary built with `jaco-bench`.
    static var binary: URL {
        (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).deletingLastPathComponent().appendingPathComponent("jacod")
    }

    /// The daemon's resident memory now, in bytes (Linux `/proc/<pid>/status`).
    var residentBytes: Int {
        let text = FileHandle(forReadingAtPath: "/proc/\(process.processIdentifier)/status").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return (line?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
    }

    /// The repository's `Configs/<name>`, or `name` when it is an absolute path.
    static func config(_ name: String) -> String {
        if name.hasPrefix("/") { return name }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Configs/\(name)").path
    }

    /// Starts `jacod --config Configs/<config>` in `dataDirectory` and waits until it is ready.
    init(config: String, dataDirectory: URL, extraArguments: [String] = []) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw BenchError.missing("\(Self.binary.path): build it first with 'swift build -c release --product jacod'")
        }
        self.dataDirectory = dataDirectory
        port = freePort()
        log = dataDirectory.appendingPathComponent("jacod.log")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = Self.binary
        process.arguments = [
            "--config", Self.config(config), "--data-dir", dataDirectory.path, "--grpc-listen", "127.0.0.1:\(port)",
            "--socket", dataDirectory.appendingPathComponent("jaco.sock").path, "--http-listen", "127.0.0.1:\(httpPort)",
            "--metrics-listen", "127.0.0.1:\(freePort())",
        ] + extraArguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while !logText.contains("jacod is ready") {
            guard process.isRunning, ContinuousClock.now < deadline else { throw BenchError.missing("a ready jacod; its log:\n\(logText)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    private var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Stops the daemon (SIGTERM) and waits for it to exit.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Runs `body` with one open session per client, all open at once.
func withSessions<R: Sendable>(_ clients: [JacoClient], _ body: @escaping @Sendable ([JacoSession]) async throws -> R) async throws -> R {
    @Sendable func open(_ index: Int, _ sessions: [JacoSession]) async throws -> R {
        if index == clients.count { return try await body(sessions) }
        return try await clients[index].connected { session in try await open(index + 1, sessions + [session]) }
    }
    return try await open(0, [])
}
