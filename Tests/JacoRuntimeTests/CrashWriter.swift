import Foundation
import Synchronization

/// Runs the `jaco-crash-writer` executable built next to the tests and reads its output.
final class CrashWriter: Sendable {
    private let process: Process
    private let output: FileHandle
    private let buffer = Mutex<(data: [UInt8], lines: [String])>(([], []))

    init(config: String, dataDirectory: URL, clients: Int = 1) throws {
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = ["--config", config, "--data-dir", dataDirectory.path, "--clients", String(clients)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        self.output = pipe.fileHandleForReading
    }

    /// Reads lines until `done` holds for all lines read so far, or 60 seconds pass.
    func readLines(until done: ([String]) -> Bool) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            // A blocking read, on a dispatch thread rather than the cooperative pool.
            let output = self.output
            let chunk = await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: output.availableData) }
            }
            if chunk.isEmpty {
                if !process.isRunning { throw CrashWriterError.exited(process.terminationStatus) }
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            let lines = append(chunk)
            if done(lines) { return lines }
        }
        throw CrashWriterError.timedOut
    }

    /// Kills the process with SIGKILL and waits for it to be gone.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        _ = waitpid(process.processIdentifier, nil, 0)  // reaped here, not by Foundation's starvable reaper
    }

    /// Complete lines printed before the process died that were not read yet.
    func remainingLines() throws -> [String] {
        let before = buffer.withLock { $0.lines.count }
        let all = append(try output.readToEnd() ?? Data())
        return Array(all[before...])
    }

    private func append(_ chunk: Data) -> [String] {
        buffer.withLock { state in
            state.data += chunk
            while let newline = state.data.firstIndex(of: UInt8(ascii: "\n")) {
                state.lines.append(String(decoding: state.data[..<newline], as: UTF8.self))
                state.data.removeSubrange(...newline)
            }
            return state.lines
        }
    }

    private static func executable() throws -> URL {
        var candidates: [URL] = []
        if let bundle = Bundle.main.executableURL { candidates.append(bundle.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        candidates.append(repositoryRoot.appendingPathComponent(".build/debug"))
        for directory in candidates {
            let url = directory.appendingPathComponent("jaco-crash-writer")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw CrashWriterError.notBuilt(candidates.map(\.path))
    }
}

enum CrashWriterError: Error {
    case exited(Int32)
    case timedOut
    case notBuilt([String])
}
