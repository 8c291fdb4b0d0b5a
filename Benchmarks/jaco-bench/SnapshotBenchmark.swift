import Foundation
import JacoKernel
import JacoRuntime

/// `--only snapshot [--tokens N]` (default 100,000): a SQLite store of N tokens, then with the
/// real binaries: `jaco snapshot save` from a SQLite jacod, `jaco snapshot restore` into a fresh
/// LMDB jacod, and `jaco store migrate` of that LMDB store into a new SQLite one.
func snapshotBenchmark(scratch: URL, tokens: Int) async throws {
    print("snapshot: \(tokens) tokens (loaded in batches of 1000 through the kernel)\n")
    let sqlite = try storeDirectory(scratch, "snap-sqlite", storage: "[storage]\nengine = \"sqlite\"\n")
    let lmdb = try storeDirectory(scratch, "snap-lmdb", storage: "[storage]\nengine = \"lmdb\"\nmap_size = \"8GiB\"\n")
    let target = try storeDirectory(scratch, "snap-target", storage: "[storage]\nengine = \"sqlite\"\n")
    _ = try await loadTokens(JacoConfig.load(path: sqlite.config), into: sqlite.directory, count: tokens)
    let file = scratch.appendingPathComponent("bench.snap").path

    let source = try await BenchDaemon(config: sqlite.config, dataDirectory: sqlite.directory)
    let save = try runJaco(["snapshot", "save", file, "--socket", sqlite.directory.appendingPathComponent("jaco.sock").path])
    source.stop()
    let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
    let records = try SnapshotFile.read(Data(contentsOf: URL(fileURLWithPath: file)), hasher: Runtime.plainHasher()).header.records

    let fresh = try await BenchDaemon(config: lmdb.config, dataDirectory: lmdb.directory)
    let restore = try runJaco(["snapshot", "restore", file, "--socket", lmdb.directory.appendingPathComponent("jaco.sock").path])
    fresh.stop()

    let migrate = try runJaco([
        "store", "migrate", "--from", lmdb.config, "--from-data-dir", lmdb.directory.path, "--to", target.config, "--to-data-dir", target.directory.path,
    ])

    func line(_ name: String, _ seconds: Double) -> String {
        "  \(name.padding(toLength: 26, withPad: " ", startingAt: 0))\(format(seconds, 2)) s (\(format(Double(records) / seconds, 0)) records/s)"
    }
    print("\(records) records, \(bytes >> 20) MiB snapshot file")
    print(line("snapshot save (SQLite)", save))
    print(line("snapshot restore (LMDB)", restore))
    print(line("store migrate LMDB→SQLite", migrate))
    print("  (each timed around the real jaco command; migrate includes the audit-chain walk)\n")
}

/// A data directory with a config holding `storage`.
private func storeDirectory(_ scratch: URL, _ name: String, storage: String) throws -> (directory: URL, config: String) {
    let directory = scratch.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let config = directory.appendingPathComponent("jaco.toml")
    try storage.write(to: config, atomically: true, encoding: .utf8)
    return (directory, config.path)
}

/// Runs the release `jaco` with `arguments`; returns the seconds it took (fails on a non-zero exit).
private func runJaco(_ arguments: [String]) throws -> Double {
    let process = Process()
    process.executableURL = BenchDaemon.binary.deletingLastPathComponent().appendingPathComponent("jaco")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    let start = ContinuousClock.now
    try process.run()
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError.missing("a successful jaco \(arguments.first ?? "") (exit \(process.terminationStatus)): \(String(decoding: stderr, as: UTF8.self))")
    }
    return (ContinuousClock.now - start).inSeconds
}
