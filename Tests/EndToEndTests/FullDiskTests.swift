import Foundation
import Testing

/// A full disk under the real daemon, on a small tmpfs data directory (needs root to mount;
/// skipped with a message where mount is refused): writes fail `store_full` naming the store,
/// the daemon stays up, verifies and reads keep working, and once space is back writes resume
/// with nothing acknowledged lost and the audit chain intact, also across a restart. (A disk
/// turning read-only under a running daemon is not tested: Linux refuses to remount a file
/// system read-only while files on it are open for writing.)
@Suite("Full disk end to end", .serialized)
struct FullDiskTests {
    /// Whether this process may mount a tmpfs (root in a sandbox that allows it).
    static let canMount: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-mount-probe-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard (try? runToCompletion(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path]))?.status == 0 else { return false }
        _ = try? runToCompletion(URL(fileURLWithPath: "/bin/umount"), [probe.path])
        return true
    }()

    static func mount(_ arguments: [String]) async throws {
        let result = try await offPool { try runToCompletion(URL(fileURLWithPath: "/bin/mount"), arguments) }
        #expect(result.status == 0, "mount \(arguments): \(result.stderr)")
    }

    /// Fills the file system under `directory` with a filler file until a write fails.
    static func fill(_ directory: URL) throws -> URL {
        let filler = directory.appendingPathComponent("filler")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        defer { try? handle.close() }
        let chunk = Data(count: 16 * 1024)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        // What a 16 KiB chunk did not fit: byte by byte.
        let byte = Data(count: 1)
        while (try? handle.write(contentsOf: byte)) != nil {}
        return filler
    }

    @Test(
        "store_full on a full disk naming the store; reads and verifies go on; writes resume; nothing acknowledged is lost",
        .enabled(if: canMount, "needs root to mount a tmpfs (mount -t tmpfs was refused here)"),
        arguments: ["sqlite.toml", "lmdb.toml"])
    func fullAndReadOnly(config: String) async throws {
        let daemon = try Daemon(config: config)
        defer { daemon.remove() }
        let data = daemon.dataDirectory
        try await Self.mount(["-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", data.path])
        defer { _ = try? runToCompletion(URL(fileURLWithPath: "/bin/umount"), ["-l", data.path]) }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        var acknowledged: [String: String] = [:]
        for n in 0..<5 {
            let issued = try await daemon.jaco(["token", "issue", "--name", "before-\(n)"], token: bootstrap)
            #expect(issued.status == 0, "\(issued.stderr)")
            acknowledged["before-\(n)"] = issued.lastWord
        }

        // Full: a write fails store_full, naming the store; the daemon answers reads and verifies.
        let filler = try await offPool { try Self.fill(data) }
        var refused: CommandResult?
        for n in 0..<50 where refused == nil {
            let issued = try await daemon.jaco(["token", "issue", "--name", "full-\(n)"], token: bootstrap)
            if issued.status == 0 { acknowledged["full-\(n)"] = issued.lastWord } else { refused = issued }
        }
        let full = try #require(refused, "no write failed on a full disk")
        #expect(full.stderr.hasPrefix("store_full:"), "\(full.stderr)")
        #expect(full.stderr.contains(data.path), "the error names the store: \(full.stderr)")
        let listed = try await daemon.jaco(["token", "list"], token: acknowledged["before-0"])
        #expect(listed.status == 0 && listed.stdout.contains("before-4"), "\(listed.stderr)")
        let consul = try await daemon.jaco(["audit", "show", "-o", "json"], token: bootstrap)
        #expect(consul.status == 0, "reads work on a full disk: \(consul.stderr)")

        // Space again: writes resume by themselves.
        try FileManager.default.removeItem(at: filler)
        let after = try await daemon.jaco(["token", "issue", "--name", "after-space"], token: bootstrap)
        #expect(after.status == 0, "\(after.stderr)")
        acknowledged["after-space"] = after.lastWord

        // Nothing acknowledged is lost, before and after a restart; the chain is intact and
        // holds one issue event per acknowledged token (plus bootstrap's).
        for restart in [false, true] {
            if restart {
                #expect(await daemon.stop() == 0)
                try await daemon.start()
            }
            for (name, secret) in acknowledged {
                let own = try await daemon.jaco(["token", "list"], token: secret)
                #expect(own.status == 0, "\(name) (restart: \(restart)): \(own.stderr)")
            }
            let chain = try await daemon.jaco(["audit", "verify"], token: bootstrap)
            #expect(chain.status == 0, "\(chain.stdout)\(chain.stderr)")
            let issues = try await daemon.jaco(["audit", "show", "--type", "token_issue", "-o", "json"], token: bootstrap)
            let events = (try? JSONSerialization.jsonObject(with: Data(issues.stdout.utf8)) as? [[String: Any]]) ?? []
            #expect(events.count == acknowledged.count, "\(events.count) token_issue events for \(acknowledged.count) acknowledged issues")
        }
        _ = await daemon.stop()
    }
}
