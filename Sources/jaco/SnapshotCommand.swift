import ArgumentParser
import Foundation
import GRPCTransport
import JacoKernel
import JacoRuntime

/// `jaco snapshot save|inspect|restore`.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Save, inspect and restore the whole store.",
        discussion: """
            A snapshot holds every token (as its digest: never a secret), policy, role, deployment, \
            last-use time and audit event, with their IDs, from one consistent view of the store. \
            It does not hold the HMAC key of [hashing] algorithm = "hmac-sha256" (keep that file \
            yourself: a restore needs the same key) nor the cluster CA's key. The format is \
            documented in docs/operations.md#snapshots.
            """,
        subcommands: [Save.self, Inspect.self, Restore.self])

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save a snapshot of a running daemon's store (needs acl:write, or the unix socket).",
            discussion: "The file is written as <file>.partial and renamed when complete and checked; it is made 0600.")
        @Argument(help: "Where to write the snapshot.") var file: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let target = URL(fileURLWithPath: file)
                let partial = URL(fileURLWithPath: file + ".partial")
                guard FileManager.default.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600]),
                    let handle = try? FileHandle(forWritingTo: partial)
                else {
                    throw JacoError(.validationFailed, "cannot write '\(partial.path)'; check that the directory exists and is writable")
                }
                let meter = ProgressMeter(label: "saved", unit: "MiB")
                do {
                    let written = ByteCounter()
                    try await connection.client().connected { session in
                        try await session.saveSnapshot { bytes in
                            try handle.write(contentsOf: bytes)
                            meter.update(Double(written.add(bytes.count)) / 1_048_576, of: nil)
                        }
                    }
                    try handle.close()
                    meter.finish()
                    let (header, _) = try SnapshotFile.read(try Data(contentsOf: partial), hasher: try Runtime.plainHasher())
                    guard rename(partial.path, target.path) == 0 else {
                        throw JacoError(.validationFailed, "cannot rename '\(partial.path)' to '\(target.path)': \(String(cString: strerror(errno)))")
                    }
                    print("Saved \(target.path): \(header.records) records (\(StoreCopy.describe(header.counts))) from \(header.engine) at index \(header.storeIndex)")
                } catch {
                    try? handle.close()
                    try? FileManager.default.removeItem(at: partial)
                    throw error
                }
            }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a snapshot file's checksum and show its header and counts. No daemon needed.")
        @Argument(help: "The snapshot file.") var file: String
        @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let header = try SnapshotCommand.readChecked(file)
                switch output {
                case .table:
                    print(Table.render(
                        header: ["FORMAT", "ENGINE", "INDEX", "CREATED", "HASHING", "RECORDS"],
                        rows: [[String(header.format), header.engine, String(header.storeIndex), header.createdAt, header.hashing, String(header.records)]]))
                    print()
                    print(Table.render(header: ["KIND", "COUNT"], rows: header.counts.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] }))
                    print("\nChecksum OK")
                case .json:
                    print(String(decoding: try JSONEncoder.sortedKeys.encode(header), as: UTF8.self))
                }
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a running daemon's whole state with a snapshot's (needs acl:write, or the unix socket).",
            discussion: """
                The file is checked here and again by the daemon (checksum, format, hashing config) \
                before anything changes. Every secret issued before the snapshot verifies again; \
                tokens issued since are gone. SQLite, LMDB and memory stores take the whole restore \
                in one transaction; on etcd it is written in batches, so a restore cut off midway \
                must be run again. Audited as snapshot_restore.
                """)
        @Argument(help: "The snapshot file.") var file: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                _ = try SnapshotCommand.readChecked(file)
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                let restored = try await connection.client().connected { try await $0.restoreSnapshot(data) }
                print("Restored \(file): \(restored.records) records from \(restored.engine), taken at \(restored.createdAt) (index \(restored.storeIndex))")
            }
        }
    }

    /// The header of a snapshot file whose checksum and structure check out.
    static func readChecked(_ path: String) throws -> SnapshotHeader {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JacoError(.validationFailed, "cannot read '\(path)': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
        }
        do {
            return try SnapshotFile.read(data, hasher: try Runtime.plainHasher()).header
        } catch let error as JacoError {
            throw JacoError(error.code, "'\(path)': \(error.message)")
        }
    }
}

/// A running total, shared with a callback.
final class ByteCounter: @unchecked Sendable {
    private var total = 0
    private let lock = NSLock()

    /// Adds `count`; returns the new total.
    func add(_ count: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        total += count
        return total
    }
}
