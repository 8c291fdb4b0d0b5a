import Foundation
import Testing

/// A full disk under the real daemon, on a small tmpfs data directory (needs root to mount;
/// skipped with a message where mount is refused): writes fail `store_full` naming the store,
/// the daemon stays up, verifies and reads keep working, and once space is back writes resume
/// with nothing acknowledged lost and the audit chain intact, also across a restart. A disk that
/// turns read-only under the running daemon (ext4 on a loop device, made to fail as
/// `errors=remount-ro` does on a disk error) fails writes naming the store while reads and
/// verifies go on; after a repair and a restart nothing acknowledged is lost.
@Suite("Full and read-only disks end to end", .serialized)
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

    /// Whether this process may make and mount an ext4 file system on a loop device.
    static let canMountLoop: Bool = {
        guard canMount, FileManager.default.isExecutableFile(atPath: "/usr/sbin/mkfs.ext4"), FileManager.default.fileExists(atPath: "/dev/loop-control") else { return false }
        return true
    }()

    static func run(_ tool: String, _ arguments: [String]) async throws -> CommandResult {
        try await offPool { try runToCompletion(URL(fileURLWithPath: tool), arguments, timeout: 120) }
    }

    /// Bootstraps `daemon` and issues five tokens: the bootstrap secret, and each issued
    /// token's secret by name.
    static func initializeAndIssue(_ daemon: Daemon) async throws -> (bootstrap: String, issued: [String: String]) {
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        var issued: [String: String] = [:]
        for n in 0..<5 {
            let result = try await daemon.jaco(["token", "issue", "--name", "before-\(n)"], token: bootstrap)
            #expect(result.status == 0, "\(result.stderr)")
            issued["before-\(n)"] = result.lastWord
        }
        return (bootstrap, issued)
    }

    /// Unmounts the failed ext4 image and mounts a checked copy of it read-write in its place.
    /// A copy, because under load the kernel let go of the failed file system late: mounting the
    /// same image file again reused its loop device and came back `emergency_ro` (twice, in
    /// loaded runs). Returns the copy, for the caller to remove.
    static func repair(image: URL, device: String, at directory: URL) async throws -> URL {
        let unmounted = try await run("/bin/umount", [directory.path])
        try #require(unmounted.status == 0, "umount: \(unmounted.stderr)")
        _ = try await run("/usr/sbin/losetup", ["-d", device])
        let copy = image.deletingPathExtension().appendingPathExtension("repaired.img")
        try FileManager.default.copyItem(at: image, to: copy)
        let checked = try await run("/usr/sbin/e2fsck", ["-f", "-y", copy.path])
        try #require(checked.status <= 1, "e2fsck exit \(checked.status): \(checked.stdout)\(checked.stderr)")
        try await mount(["-o", "loop,errors=remount-ro", copy.path, directory.path])
        let options = try await run("/usr/bin/findmnt", ["-n", "-o", "OPTIONS", directory.path]).stdout
        #expect(options.hasPrefix("rw") && !options.contains("emergency_ro"), "mounted as: \(options)")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        return copy
    }

    /// Every acknowledged token verifies, the audit chain is intact, and it holds exactly one
    /// token_issue event per acknowledged issue (none for a refused one).
    static func expectNothingLost(_ daemon: Daemon, _ acknowledged: [String: String], bootstrap: String, when: String) async throws {
        for (name, secret) in acknowledged {
            let own = try await daemon.jaco(["token", "list"], token: secret)
            #expect(own.status == 0, "\(name) \(when): \(own.stderr)")
        }
        let chain = try await daemon.jaco(["audit", "verify"], token: bootstrap)
        #expect(chain.status == 0, "\(when): \(chain.stdout)\(chain.stderr)")
        let issues = try await daemon.jaco(["audit", "show", "--type", "token_issue", "-o", "json"], token: bootstrap)
        let events = (try? JSONSerialization.jsonObject(with: Data(issues.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(events.count == acknowledged.count, "\(when): \(events.count) token_issue events for \(acknowledged.count) acknowledged issues")
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
    func full(config: String) async throws {
        let daemon = try Daemon(config: config)
        defer { daemon.remove() }
        let data = daemon.dataDirectory
        try await Self.mount(["-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", data.path])
        defer { _ = try? runToCompletion(URL(fileURLWithPath: "/bin/umount"), ["-l", data.path]) }
        try await daemon.start()
        let (bootstrap, issued) = try await Self.initializeAndIssue(daemon)
        var acknowledged = issued

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
            try await Self.expectNothingLost(daemon, acknowledged, bootstrap: bootstrap, when: restart ? "after a restart" : "before a restart")
        }
        _ = await daemon.stop()
    }

    @Test(
        "A disk turning read-only: writes fail naming the store, the daemon stays up, reads and verifies go on; after a repair and a restart nothing acknowledged is lost",
        .enabled(if: canMountLoop, "needs root, mkfs.ext4 and loop devices to mount an ext4 image"),
        arguments: ["sqlite.toml", "lmdb.toml"])
    func readOnly(config: String) async throws {
        let daemon = try Daemon(config: config)
        defer { daemon.remove() }
        let data = daemon.dataDirectory
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-ext4-\(UUID().uuidString).img")
        defer { try? FileManager.default.removeItem(at: image) }
        #expect(FileManager.default.createFile(atPath: image.path, contents: nil))
        try FileHandle(forWritingTo: image).truncate(atOffset: 48 << 20)
        #expect(try await Self.run("/usr/sbin/mkfs.ext4", ["-q", "-F", image.path]).status == 0)
        try await Self.mount(["-o", "loop,errors=remount-ro", image.path, data.path])
        defer { _ = try? runToCompletion(URL(fileURLWithPath: "/bin/umount"), ["-l", data.path]) }
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: data.path)  // jacod refuses a shared data directory
        try await daemon.start()
        let (bootstrap, issued) = try await Self.initializeAndIssue(daemon)
        let acknowledged = issued

        // A disk error: ext4 turns the file system read-only at once, open files included.
        let device = try await Self.run("/usr/bin/findmnt", ["-n", "-o", "SOURCE", data.path]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let trigger = "/sys/fs/ext4/\(URL(fileURLWithPath: device).lastPathComponent)/trigger_fs_error"
        try "1".write(toFile: trigger, atomically: false, encoding: .utf8)
        let refused = try await daemon.jaco(["token", "issue", "--name", "read-only"], token: bootstrap)
        #expect(refused.status != 0, "a write succeeded on a read-only disk")
        #expect(refused.stderr.contains(data.path), "the error names the store: \(refused.stderr)")
        for (name, secret) in acknowledged {
            let own = try await daemon.jaco(["token", "list"], token: secret)
            #expect(own.status == 0, "\(name) on a read-only disk: \(own.stderr)")
        }

        // Repaired (unmounted, checked, mounted read-write) and restarted: nothing acknowledged is lost.
        _ = await daemon.stop()
        let repaired = try await Self.repair(image: image, device: device, at: data)
        defer { try? FileManager.default.removeItem(at: repaired) }
        try await daemon.start()
        try await Self.expectNothingLost(daemon, acknowledged, bootstrap: bootstrap, when: "after the repair")
        let after = try await daemon.jaco(["token", "issue", "--name", "after-repair"], token: bootstrap)
        #expect(after.status == 0, "\(after.stderr)")
        _ = await daemon.stop()
    }
}
