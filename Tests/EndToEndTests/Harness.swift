import Foundation
import JacoTestKit
import Synchronization
import Testing

/// The repository's root and the built executables.
enum Build {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The directory holding `jacod` and `jaco`, next to the test bundle.
    static let products: URL = {
        var candidates: [URL] = []
        if let bundle = Bundle.main.executableURL { candidates.append(bundle.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        candidates.append(root.appendingPathComponent(".build/debug"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("jacod").path) } ?? candidates.last!
    }()

    /// This process's environment less `JACO_TOKEN`, `JACO_CA_CERT`, `JACO_CONFIG` and
    /// `JACO_SERVER`, so a developer's shell settings cannot leak into a test.
    static var environmentWithoutJacoSettings: [String: String] {
        ProcessInfo.processInfo.environment.filter { !["JACO_TOKEN", "JACO_CA_CERT", "JACO_CONFIG", "JACO_SERVER", "JACO_CLIENT_CERT", "JACO_CLIENT_KEY"].contains($0.key) }
    }

    /// A file under `Configs/`, or `name` itself when it is an absolute path.
    static func config(_ name: String) -> String { name.hasPrefix("/") ? name : root.appendingPathComponent("Configs/\(name)").path }
}

/// A shipped config (`Configs/<base>`) with lines edited, in a temporary file the caller
/// removes: each `(line, replacement)` replaces a line that must be there (a test never runs on
/// an edit that silently did nothing), then `appending` is added at the end.
func editedConfig(_ base: String, _ edits: [(line: String, replacement: String)], appending extra: String = "") throws -> URL {
    var text = try String(contentsOfFile: Build.config(base), encoding: .utf8)
    for (line, replacement) in edits {
        guard text.contains(line) else { throw DaemonError.exited("Configs/\(base) has no line '\(line)' to edit") }
        text = text.replacingOccurrences(of: line, with: replacement)
    }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-config-\(UUID().uuidString).toml")
    try (text + extra).write(to: url, atomically: true, encoding: .utf8)
    return url
}

/// `line` followed by `added` lines: an edit for ``editedConfig(_:_:appending:)``.
func adding(_ added: String, after line: String) -> (line: String, replacement: String) { (line, "\(line)\n\(added)") }

/// The shipped configs' listener address lines.
enum ListenerLine {
    static let grpc = "address = \"127.0.0.1:7400\""
    static let consulHTTP = "address = \"127.0.0.1:8501\""
    static let metrics = "address = \"127.0.0.1:9400\""
}

/// What a finished command printed.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The last whitespace-separated word of stdout (where secrets are printed).
    var lastWord: String { stdout.split(whereSeparator: \.isWhitespace).last.map(String.init) ?? "" }
}

/// Runs blocking work on a dispatch thread, so that it never holds up Swift's cooperative pool
/// (which runs the other tests in parallel).
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// Runs `jaco` with arguments and environment, to completion.
func jaco(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
    try await offPool { try runJaco(arguments, environment: environment) }
}

private func runJaco(_ arguments: [String], environment: [String: String]) throws -> CommandResult {
    let env = Build.environmentWithoutJacoSettings.merging(environment) { $1 }
    return try runToCompletion(Build.products.appendingPathComponent("jaco"), arguments, environment: env)
}

/// Runs an executable to completion, collecting what it printed; it is sent SIGTERM if it runs
/// longer than `timeout`. Call it off the cooperative pool (``offPool(_:)``).
func runToCompletion(
    _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil, timeout: TimeInterval = 300
) throws -> CommandResult {
    let out = try SpawnedProcess.pipe(), err = try SpawnedProcess.pipe()
    let child: SpawnedProcess
    do {
        child = try SpawnedProcess(
            executable: executable.path, arguments: arguments, environment: environment, directory: directory?.path, stdout: out.write, stderr: err.write)
    } catch {
        for fd in [out.read, out.write, err.read, err.write] { close(fd) }
        throw error
    }
    close(out.write)
    close(err.write)
    let killer = DispatchWorkItem { child.send(SIGTERM) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let printed = SpawnedProcess.readToEnd([out.read, err.read])
    let status = child.waitForExit()
    killer.cancel()
    return CommandResult(status: status, stdout: String(decoding: printed[0], as: UTF8.self), stderr: String(decoding: printed[1], as: UTF8.self))
}

/// A running `jacod` on a temporary data directory and a free port.
final class Daemon: @unchecked Sendable {
    let dataDirectory: URL
    private(set) var port: Int
    let config: String
    /// The Consul HTTP API's port.
    private(set) var httpPort: Int
    /// The metrics listener's port (plain HTTP on 127.0.0.1).
    private(set) var metricsPort: Int
    /// Extra environment for the daemon.
    let environment: [String: String]
    private var process: SpawnedProcess?
    private let log: URL
    private var bindRetries = 0

    var server: String { "127.0.0.1:\(port)" }
    /// The Consul HTTP API's base URL.
    var httpBase: String { "https://127.0.0.1:\(httpPort)" }
    /// The metrics listener's base URL.
    var metricsBase: String { "http://127.0.0.1:\(metricsPort)" }
    var caCertificate: String { dataDirectory.appendingPathComponent("tls/ca.crt").path }
    var socket: String { dataDirectory.appendingPathComponent("jaco.sock").path }

    /// Extra `jacod` arguments.
    let extraArguments: [String]
    /// The daemon's current directory (default: the test process's).
    let workingDirectory: URL?

    /// A command the daemon runs under, e.g. `ip netns exec NAME` (empty: run directly).
    let launcher: [String]

    init(config: String, environment: [String: String] = [:], extraArguments: [String] = [], workingDirectory: URL? = nil, launcher: [String] = []) throws {
        self.launcher = launcher
        self.config = config
        self.environment = environment
        self.extraArguments = extraArguments
        self.workingDirectory = workingDirectory
        httpPort = freePort()
        metricsPort = freePort()
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        port = freePort()
        log = dataDirectory.appendingPathComponent("jacod.log")
    }

    /// Starts the daemon and waits until it accepts calls.
    func start() async throws {
        let jacod = Build.products.appendingPathComponent("jacod")
        let arguments = [
            "--config", Build.config(config), "--data-dir", dataDirectory.path, "--grpc-listen", server, "--socket", socket,
            "--http-listen", "127.0.0.1:\(httpPort)", "--metrics-listen", "127.0.0.1:\(metricsPort)",
        ] + extraArguments
        let (executable, commandLine) = launcher.first.map { ($0, Array(launcher.dropFirst()) + [jacod.path] + arguments) } ?? (jacod.path, arguments)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        // The child has its own copy: the test's is closed, so the data directory holds no
        // file open once the daemon stops (a test may unmount it).
        defer { try? handle.close() }
        let process = try SpawnedProcess(
            executable: executable, arguments: commandLine, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: workingDirectory?.path, stdout: handle.fileDescriptor, stderr: handle.fileDescriptor)
        self.process = process
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                // Another process took a port between freePort() and the bind: new ports, again.
                if logText.contains("already in use"), bindRetries < 3 {
                    bindRetries += 1
                    port = freePort()
                    httpPort = freePort()
                    metricsPort = freePort()
                    return try await start()
                }
                throw DaemonError.exited(logText)
            }
            if logText.contains("jacod is ready") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DaemonError.notReady(logText)
    }

    /// Stops the daemon with SIGTERM and waits up to 15 seconds for it to exit (then SIGKILL,
    /// reported as status -1).
    @discardableResult
    func stop() async -> Int32 {
        (try? await offPool { self.stopNow() }) ?? -1
    }

    private func stopNow() -> Int32 {
        guard let process else { return 0 }
        guard process.isRunning else { return process.waitForExit() }
        process.send(SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.send(SIGKILL)
            process.waitForExit()
            return -1
        }
        return process.waitForExit()
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// `jaco` against this daemon over TLS, with `--server` and `--ca-cert` filled in.
    func jaco(_ arguments: [String], token: String? = nil, caCertificate: String? = nil) async throws -> CommandResult {
        var environment: [String: String] = [:]
        if let token { environment["JACO_TOKEN"] = token }
        return try await EndToEndTests.jaco(arguments + ["--server", server, "--ca-cert", caCertificate ?? self.caCertificate], environment: environment)
    }

    /// Sends `signal` (e.g. SIGHUP) to the running daemon.
    func send(_ signal: Int32) {
        process?.send(signal)
    }

    /// Kills the daemon with SIGKILL, as a crash would, and waits until it is gone.
    func crash() {
        if let process, process.isRunning {
            process.send(SIGKILL)
            process.waitForExit()
        }
    }

    /// Kills the daemon if it still runs and removes its data directory (for `defer`).
    func remove() {
        crash()
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}

enum DaemonError: Error {
    case exited(String)
    case notReady(String)
}
