import Foundation
import JacoKernel
import JacoTestKit
import Testing

/// Snapshots and engine migration with the real binaries: SQLite → snapshot → LMDB → etcd → SQLite.
@Suite("Snapshots and migration end to end", .serialized)
struct SnapshotMigrationTests {
    /// `jaco token list --all -o json` without the fields that change with use (`last_used`).
    static func listing(_ daemon: Daemon, token: String) async throws -> String {
        let listed = try await daemon.jaco(["token", "list", "--all", "-o", "json"], token: token)
        #expect(listed.status == 0, "\(listed.stderr)")
        var tokens = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        for index in tokens.indices { tokens[index]["last_used"] = nil }
        return String(decoding: try JSONSerialization.data(withJSONObject: tokens, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The listing matches, the first token still verifies, and the audit chain holds.
    static func check(_ daemon: Daemon, token: String, expected: String, step: String) async throws {
        #expect(try await listing(daemon, token: token) == expected, "listing differs after \(step)")
        let verify = try await daemon.jaco(["audit", "verify"], token: token)
        #expect(verify.status == 0, "\(step): \(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.hasPrefix("Audit chain intact"), "\(step): \(verify.stdout)")
    }

    @Test("Round trip: SQLite → snapshot → LMDB restore → migrate to etcd → migrate to SQLite; listings equal, tokens verify, the chain holds")
    func roundTrip() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-snap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        // SQLite: some history.
        let sqlite = try Daemon(config: "sqlite.toml")
        defer { sqlite.remove() }
        try await sqlite.start()
        let bootstrap = try await sqlite.jaco(["cluster", "init"]).lastWord
        let alice = try await sqlite.jaco(["token", "issue", "--name", "alice"], token: bootstrap).lastWord
        _ = try await sqlite.jaco(["token", "issue", "--name", "ci", "--allow-privileged", "--ttl", "30d"], token: bootstrap)
        _ = try await sqlite.jaco(["token", "revoke", "ci"], token: bootstrap)
        _ = try await sqlite.jaco(["token", "rotate", "alice", "--grace", "1h"], token: bootstrap)
        let expected = try await Self.listing(sqlite, token: bootstrap)

        let file = scratch.appendingPathComponent("jaco.snap").path
        let saved = try await sqlite.jaco(["snapshot", "save", file], token: bootstrap)
        #expect(saved.status == 0, "\(saved.stderr)")
        #expect(saved.stdout.contains("records") && saved.stdout.contains("from sqlite"), "\(saved.stdout)")
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600)
        let inspected = try await EndToEndTests.jaco(["snapshot", "inspect", file])
        #expect(inspected.status == 0 && inspected.stdout.contains("Checksum OK"), "\(inspected.stdout) \(inspected.stderr)")
        let header = try await EndToEndTests.jaco(["snapshot", "inspect", file, "-o", "json"])
        let info = try #require(try JSONSerialization.jsonObject(with: Data(header.stdout.utf8)) as? [String: Any])
        #expect(info["engine"] as? String == "sqlite")
        #expect((info["counts"] as? [String: Int])?["tokens"] == 4)
        #expect(!(try String(contentsOfFile: file, encoding: .isoLatin1)).contains(alice))

        // LMDB, fresh: restore over the unix socket.
        let lmdb = try Daemon(config: "lmdb.toml")
        defer { lmdb.remove() }
        try await lmdb.start()
        let restored = try await EndToEndTests.jaco(["snapshot", "restore", file, "--socket", lmdb.socket])
        #expect(restored.status == 0, "\(restored.stderr) \(restored.stdout)")
        #expect(restored.stdout.contains("from sqlite"), "\(restored.stdout)")
        try await Self.check(lmdb, token: bootstrap, expected: expected, step: "the LMDB restore")
        #expect(try await lmdb.jaco(["token", "list"], token: alice).status == 0)
        #expect(try await lmdb.jaco(["audit", "--type", "snapshot_restore"], token: bootstrap).stdout.contains("snapshot_restore"))
        let afterRestore = try await Self.listing(lmdb, token: bootstrap)
        #expect(await lmdb.stop() == 0)

        // LMDB → etcd, offline.
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        let etcdConfig = scratch.appendingPathComponent("etcd.toml")
        let endpoint = try #require(etcd.endpoints.split(separator: ",").first)
        try "[storage]\nengine = \"etcd\"\nendpoints = [\"\(endpoint)\"]\nprefix = \"/jaco/\"\n".write(to: etcdConfig, atomically: true, encoding: .utf8)
        let toEtcd = try await EndToEndTests.jaco([
            "store", "migrate", "--from", Build.config("lmdb.toml"), "--from-data-dir", lmdb.dataDirectory.path,
            "--to", etcdConfig.path, "--to-data-dir", scratch.path,
        ])
        #expect(toEtcd.status == 0, "\(toEtcd.stderr)")
        #expect(toEtcd.stdout.contains("audit chain intact"), "\(toEtcd.stdout)")
        #expect(toEtcd.stderr.contains("100% copied"), "\(toEtcd.stderr)")
        let again = try await EndToEndTests.jaco([
            "store", "migrate", "--from", Build.config("lmdb.toml"), "--from-data-dir", lmdb.dataDirectory.path,
            "--to", etcdConfig.path, "--to-data-dir", scratch.path,
        ])
        #expect(again.status == 1)
        #expect(again.stderr.contains("the target store is not empty"), "\(again.stderr)")
        let onEtcd = try Daemon(config: "etcd.toml", extraArguments: ["--etcd-endpoints", etcd.endpoints])
        defer { onEtcd.remove() }
        try await onEtcd.start()
        try await Self.check(onEtcd, token: bootstrap, expected: afterRestore, step: "the migration to etcd")
        #expect(try await onEtcd.jaco(["token", "list"], token: alice).status == 0)
        // A restore on etcd is written in batches; the result is the same.
        _ = try await onEtcd.jaco(["token", "issue", "--name", "gone-after-restore"], token: bootstrap)
        let etcdRestore = try await onEtcd.jaco(["snapshot", "restore", file], token: bootstrap)
        #expect(etcdRestore.status == 0, "\(etcdRestore.stderr)")
        try await Self.check(onEtcd, token: bootstrap, expected: expected, step: "the restore on etcd")
        #expect(await onEtcd.stop() == 0)

        // etcd → SQLite, into a new data directory.
        let back = try Daemon(config: "sqlite.toml")
        defer { back.remove() }
        let toSQLite = try await EndToEndTests.jaco([
            "store", "migrate", "--from", etcdConfig.path, "--from-data-dir", scratch.path,
            "--to", Build.config("sqlite.toml"), "--to-data-dir", back.dataDirectory.path,
        ])
        #expect(toSQLite.status == 0, "\(toSQLite.stderr)")
        try await back.start()
        try await Self.check(back, token: bootstrap, expected: expected, step: "the migration back to SQLite")
        #expect(try await back.jaco(["token", "list"], token: alice).status == 0)
    }

    @Test("A flipped byte, a truncated file and another hashing config are refused; nothing changes")
    func refusals() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-snapbad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let daemon = try Daemon(config: "sqlite.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let file = scratch.appendingPathComponent("good.snap")
        #expect(try await daemon.jaco(["snapshot", "save", file.path], token: bootstrap).status == 0)
        let later = try await daemon.jaco(["token", "issue", "--name", "later"], token: bootstrap).lastWord
        let before = try await Self.listing(daemon, token: bootstrap)

        var bytes = try Data(contentsOf: file)
        bytes[bytes.count / 2] ^= 0x01
        let flipped = scratch.appendingPathComponent("flipped.snap")
        try bytes.write(to: flipped)
        let truncated = scratch.appendingPathComponent("truncated.snap")
        try Data(contentsOf: file).prefix(100).write(to: truncated)
        for damaged in [flipped, truncated] {
            let inspect = try await EndToEndTests.jaco(["snapshot", "inspect", damaged.path])
            #expect(inspect.status == 1)
            #expect(inspect.stderr.contains("checksum does not match"), "\(inspect.stderr)")
            let restore = try await daemon.jaco(["snapshot", "restore", damaged.path], token: bootstrap)
            #expect(restore.status == 1)
            #expect(restore.stderr.hasPrefix("validation_failed: '\(damaged.path)': the snapshot's checksum does not match"), "\(restore.stderr)")
        }
        #expect(try await Self.listing(daemon, token: bootstrap) == before)
        #expect(try await daemon.jaco(["token", "list"], token: later).status == 0)

        // A daemon that hashes with an HMAC key cannot take it.
        let keyFile = scratch.appendingPathComponent("hmac.key")
        try Data((0..<32).map { UInt8($0) }).write(to: keyFile)
        let config = scratch.appendingPathComponent("hmac.toml")
        let base = try String(contentsOfFile: Build.config("sqlite.toml"), encoding: .utf8)
            .replacingOccurrences(of: "algorithm = \"sha256\"", with: "algorithm = \"hmac-sha256\"\nkey_file = \"\(keyFile.path)\"")
        try base.write(to: config, atomically: true, encoding: .utf8)
        let keyed = try Daemon(config: config.path)
        defer { keyed.remove() }
        try await keyed.start()
        let keyedBootstrap = try await keyed.jaco(["cluster", "init"]).lastWord
        let refused = try await keyed.jaco(["snapshot", "restore", file.path], token: keyedBootstrap)
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("failed_precondition: the snapshot's tokens were hashed with 'sha256:"), "\(refused.stderr)")
        #expect(try await keyed.jaco(["token", "list"], token: keyedBootstrap).status == 0)

        // Migration refusals: configs that hash differently, and a target too small to hold
        // the store (left empty again). A 200 KB manifest makes the source larger than the target.
        let labels = (0..<4000).map { "      label-\($0): \"\(String(repeating: "x", count: 30))\"" }.joined(separator: "\n")
        let manifest = scratch.appendingPathComponent("big.yaml")
        try "services:\n  web:\n    image: nginx\n    labels:\n\(labels)\n".write(to: manifest, atomically: true, encoding: .utf8)
        let applied = try await daemon.jaco(["apply", "-f", manifest.path], token: bootstrap)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(await daemon.stop() == 0)
        let hashing = try await EndToEndTests.jaco([
            "store", "migrate", "--from", Build.config("sqlite.toml"), "--from-data-dir", daemon.dataDirectory.path,
            "--to", config.path, "--to-data-dir", scratch.appendingPathComponent("other").path,
        ])
        #expect(hashing.status == 1)
        #expect(hashing.stderr.hasPrefix("failed_precondition: the two configs hash differently"), "\(hashing.stderr)")
        let tiny = scratch.appendingPathComponent("tiny.toml")
        try "[storage]\nengine = \"lmdb\"\nmap_size = \"64KiB\"\n".write(to: tiny, atomically: true, encoding: .utf8)
        let full = try await EndToEndTests.jaco([
            "store", "migrate", "--from", Build.config("sqlite.toml"), "--from-data-dir", daemon.dataDirectory.path,
            "--to", tiny.path, "--to-data-dir", scratch.appendingPathComponent("tiny").path,
        ])
        #expect(full.status == 1)
        #expect(full.stderr.contains("\nstore_full: "), "\(full.stderr)")
        #expect(full.stderr.contains("the target was emptied again"), "\(full.stderr)")
    }
}
