import Foundation
import JacoKernel
import JacoRuntime
import Testing

@Suite("Durability", .serialized)
struct DurabilityTests {
    @Test("Database files never contain an issued secret", arguments: ["sqlite.toml", "lmdb.toml"])
    func noPlaintextOnDisk(file: String) async throws {
        let dir = try temporaryDirectory("scan")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try JacoConfig.load(path: repositoryRoot.appendingPathComponent("Configs/\(file)").path)
        let kernel = try await Runtime.startKernel(config, dataDirectory: dir)
        var issued = [try await kernel.tokens.bootstrap()]
        let op = try kernel.tokens.verify(secret: issued[0].secret)
        for n in 0..<50 { issued.append(try await kernel.tokens.issue(identity: "user-\(n)", by: op)) }
        try await kernel.tokens.revoke(identity: "user-7", by: op)
        // Scan before and after close: the WAL and the main file both count.
        let open = try allBytes(under: dir)
        try await kernel.shutdown()
        let closed = try allBytes(under: dir)
        let digests = issued.map { Array($0.token.secretDigest.hex.utf8) }
        let secrets = issued.map { Array($0.secret.utf8) }
        let randomParts = issued.map { Array($0.secret.utf8.dropFirst(SecretFormat.prefix.utf8.count).prefix(SecretFormat.randomLength)) }
        for bytes in [open, closed] {
            // The scan can find what is there: every digest is stored (in the digest index keys).
            #expect(occurrences(of: digests, in: bytes).count == digests.count)
            let leaked = occurrences(of: secrets + randomParts, in: bytes)
            #expect(leaked.isEmpty, "\(leaked.count) secrets or their random parts are on disk")
        }
    }

    @Test("Every issue that returned before SIGKILL still verifies after reopen, from one caller or 16 at once (group commits)",
          arguments: ["sqlite.toml", "lmdb.toml"], [1, 16])
    func crashDuringIssues(file: String, clients: Int) async throws {
        let dir = try temporaryDirectory("crash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let configPath = repositoryRoot.appendingPathComponent("Configs/\(file)").path
        var reported: [(identity: String, secret: String)] = []
        for round in 0..<3 {
            let child = try CrashWriter(config: configPath, dataDirectory: dir, clients: clients)
            // Kill at a different point each round, in the middle of the stream of issues.
            let lines = try await child.readLines(until: { $0.filter { $0.hasPrefix("ISSUED ") }.count >= 20 + 15 * round })
            child.kill()
            let all = lines + (try child.remainingLines())
            for line in all where line.hasPrefix("ISSUED ") {
                let parts = line.split(separator: " ")
                reported.append((String(parts[1]), String(parts[2])))
            }
        }
        #expect(reported.count >= 20 + 35 + 50)
        let kernel = try await Runtime.startKernel(try JacoConfig.load(path: configPath), dataDirectory: dir)
        for token in reported {
            #expect(try kernel.tokens.verify(secret: token.secret).identity == token.identity)
        }
        #expect(try await kernel.audit.verifyChain().isIntact)
        if clients > 1 {
            // Group commits happened: fewer commits (each bumps the store index once) than issues.
            let issues = try await kernel.audit.events(types: ["token_issue"], by: .system("test")).count
            #expect(kernel.cache.appliedIndex < UInt64(issues), "\(issues) issues in \(kernel.cache.appliedIndex) commits")
        }
        try await kernel.shutdown()
    }
}

/// Every byte of every file under `directory`.
func allBytes(under directory: URL) throws -> [UInt8] {
    var bytes: [UInt8] = []
    let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)!
    for case let url as URL in files where !url.hasDirectoryPath {
        bytes += try Data(contentsOf: url)
    }
    return bytes
}

/// Which of `needles` occur in `haystack`, found in one pass: each needle is keyed by its first
/// eight bytes, and every eight-byte window of the haystack is looked up.
func occurrences(of needles: [[UInt8]], in haystack: [UInt8]) -> Set<[UInt8]> {
    var byPrefix: [UInt64: [[UInt8]]] = [:]
    for needle in needles where needle.count >= 8 {
        byPrefix[needle.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }, default: []].append(needle)
    }
    var found = Set<[UInt8]>()
    guard haystack.count >= 8 else { return found }
    var window = haystack.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    for start in 0...(haystack.count - 8) {
        if start > 0 { window = window << 8 | UInt64(haystack[start + 7]) }
        guard let candidates = byPrefix[window] else { continue }
        for needle in candidates where start + needle.count <= haystack.count && haystack[start..<(start + needle.count)].elementsEqual(needle) {
            found.insert(needle)
        }
    }
    return found
}
