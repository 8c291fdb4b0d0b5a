// The child process of the crash tests: opens the configured store, bootstraps if needed, then
// issues tokens one after another — from `--clients` concurrent callers, so group commits
// carry several — and prints each one whose issue returned, until killed.
//
//     jaco-crash-writer --config <file> --data-dir <dir> [--count <n per client>] [--clients <n>]
//
// Output lines: `ISSUED <identity> <secret>` (flushed at once). Test use only: it prints secrets.
import Foundation
import JacoKernel
import JacoRuntime

/// Writes a line straight to stdout (no buffering, so a kill loses nothing that was reported).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else {
        FileHandle.standardError.write(Data("usage: jaco-crash-writer --config <file> --data-dir <dir> [--count <n>] [--clients <n>]\n".utf8))
        exit(2)
    }
    options[String(flag.dropFirst(2))] = value
}
guard let configPath = options["config"], let dataDirectory = options["data-dir"] else {
    FileHandle.standardError.write(Data("jaco-crash-writer: --config and --data-dir are required\n".utf8))
    exit(2)
}
let count = Int(options["count"] ?? "") ?? .max
let clients = max(1, Int(options["clients"] ?? "") ?? 1)

do {
    let kernel = try await Runtime.startKernel(try JacoConfig.load(path: configPath), dataDirectory: URL(fileURLWithPath: dataDirectory))
    let issuer = Principal.system("crash-writer")
    if try await !kernel.tokens.isInitialized() {
        _ = try await kernel.tokens.bootstrap()
    }
    emit("READY")
    let run = UUID().uuidString.prefix(8).lowercased()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for client in 0..<clients {
            group.addTask {
                var n = 0
                while n < count {
                    let identity = "crash-\(run)-\(client)-\(n)"
                    let issued = try await kernel.tokens.issue(identity: identity, by: issuer)
                    emit("ISSUED \(identity) \(issued.secret)")  // one write(2) per line: lines do not interleave
                    n += 1
                }
            }
        }
        try await group.waitForAll()
    }
    try await kernel.shutdown()
} catch {
    FileHandle.standardError.write(Data("jaco-crash-writer: \(error)\n".utf8))
    exit(1)
}
