import Foundation
import JacoTestKit
import JacoKernel
import Testing

/// The real `jacod` and `jaco` executables, over TLS on 127.0.0.1, for each shipped config.
@Suite("jacod and jaco end to end")
struct DaemonCLITests {
    @Test("init, issue, list, revoke, audit, restart", arguments: ["memory.toml", "sqlite.toml", "lmdb.toml"])
    func lifecycle(config: String) async throws {
        let daemon = try Daemon(config: config)
        defer { daemon.remove() }
        try await daemon.start()

        // Before init: status answers, everything else is cluster_uninitialized.
        let status = try await daemon.jaco(["cluster", "status"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("false"))
        let early = try await daemon.jaco(["token", "list"], token: "jaco_x")
        #expect(early.status == 1)
        #expect(early.stderr.hasPrefix("cluster_uninitialized:"))

        // Init once.
        let initialized = try await daemon.jaco(["cluster", "init"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let bootstrap = initialized.lastWord
        #expect(bootstrap.hasPrefix("jaco_"))
        let again = try await daemon.jaco(["cluster", "init"])
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("already_initialized:"))

        // Issue plain and privileged tokens.
        let alice = try await daemon.jaco(["token", "issue", "--name", "alice"], token: bootstrap)
        #expect(alice.status == 0, "\(alice.stderr)")
        #expect(alice.stdout.hasPrefix("Token for alice (save this; not recoverable): jaco_"))
        let deploy = try await daemon.jaco(["token", "issue", "--name", "ci-deploy", "--allow-privileged"], token: bootstrap)
        #expect(deploy.status == 0)
        let duplicate = try await daemon.jaco(["token", "issue", "--name", "alice"], token: bootstrap)
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.hasPrefix("duplicate_identity:"))
        #expect(duplicate.stderr.contains("'alice'"))

        // Alice's token acts as alice; the state changes are attributed to her.
        let bob = try await daemon.jaco(["token", "issue", "--name", "bob"], token: alice.lastWord)
        #expect(bob.status == 0)
        let revoked = try await daemon.jaco(["token", "revoke", "ci-deploy"], token: alice.lastWord)
        #expect(revoked.status == 0)
        #expect(revoked.stdout == "Revoked token for ci-deploy\n")
        let unknown = try await daemon.jaco(["token", "revoke", "nobody"], token: bootstrap)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.hasPrefix("not_found:"))

        // The revoked token fails token_revoked on the next call.
        let refused = try await daemon.jaco(["token", "list"], token: deploy.lastWord)
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("token_revoked: the token for 'ci-deploy' was revoked at "))

        // List: aligned, RFC 3339, '-' when active, never a secret.
        let list = try await daemon.jaco(["token", "list"], token: bootstrap)
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["IDENTITY", "ISSUED", "REVOKED"])
        // Accessor-ID order, which the table does not show: compare the sets. One row per jaco
        // identity; the anonymous token only with --all, labelled.
        #expect(lines.dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }.sorted() == ["alice", "bob", "bootstrap", "ci-deploy"])
        let everything = try await daemon.jaco(["token", "list", "--all"], token: bootstrap)
        #expect(everything.stdout.split(separator: "\n").contains { $0.hasPrefix("anonymous ") }, "\(everything.stdout)")
        #expect(lines.first { $0.hasPrefix("ci-deploy") }?.hasSuffix("Z") == true)
        #expect(lines.first { $0.hasPrefix("alice") }?.hasSuffix("-") == true)
        for secret in [bootstrap, alice.lastWord, deploy.lastWord, bob.lastWord] { #expect(!list.stdout.contains(secret)) }
        let json = try await daemon.jaco(["token", "list", "-o", "json", "--all"], token: bootstrap)
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.count == 5)  // with the anonymous token bootstrap creates
        #expect(decoded?.first { $0["identity"] as? String == "ci-deploy" }?["allows_privileged"] as? Bool == true)

        // The unix socket needs no token; its caller is 'local'.
        let local = try await EndToEndTests.jaco(["token", "issue", "--name", "made-locally", "--socket", daemon.socket])
        #expect(local.status == 0, "\(local.stderr)")

        // Audit: each step, attributed to the right identity.
        let audit = try await daemon.jaco(["audit", "-o", "json"], token: bootstrap)
        #expect(audit.status == 0, "\(audit.stderr)")
        let events = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
        let steps = events.map { "\($0["type"]!) by \($0["identity"]!)" }
        #expect(steps == [
            "cluster_bootstrap by bootstrap", "token_issue by bootstrap", "token_issue by bootstrap",
            "token_issue by alice", "token_revoke by alice", "token_issue by local",
        ])
        let verify = try await daemon.jaco(["audit", "verify"], token: bootstrap)
        #expect(verify.stdout == "Audit chain intact: 6 events checked\n")

        // Restart: durable engines keep every token and event.
        guard config != "memory.toml" else { return }
        #expect(await daemon.stop() == 0)
        #expect(daemon.logText.contains("store closed"))
        try await daemon.start()
        let after = try await daemon.jaco(["token", "list"], token: alice.lastWord)
        #expect(after.status == 0, "\(after.stderr)")
        let identitiesAfter = after.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").first.map(String.init) }
        #expect(identitiesAfter.compactMap { $0 }.sorted() == ["alice", "bob", "bootstrap", "ci-deploy", "made-locally"])
        let stillRevoked = try await daemon.jaco(["token", "list"], token: deploy.lastWord)
        #expect(stillRevoked.stderr.hasPrefix("token_revoked:"))
        let auditAfter = try await daemon.jaco(["audit", "verify"], token: bootstrap)
        #expect(auditAfter.stdout == "Audit chain intact: 6 events checked\n")
    }

    @Test("No token, a garbage token, a bad checksum and a wrong CA are refused")
    func refusals() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord

        let none = try await daemon.jaco(["token", "list"])
        #expect(none.status == 1)
        #expect(none.stderr.hasPrefix("token_invalid:"))
        let garbage = try await daemon.jaco(["token", "list"], token: "not-a-token")
        #expect(garbage.status == 1)
        #expect(garbage.stderr.hasPrefix("token_invalid:"))
        var typo = Array(bootstrap)
        typo[12] = typo[12] == "a" ? "b" : "a"
        let checksum = try await daemon.jaco(["token", "list"], token: String(typo))
        #expect(checksum.status == 1)
        #expect(checksum.stderr.hasPrefix("token_invalid:"))
        #expect(checksum.stderr.contains("checksum"))

        // A CA that did not sign the server's certificate: a TLS error, exit 1.
        let other = try Daemon(config: "memory.toml")
        defer { other.remove() }
        try await other.start()
        let wrongCA = try await EndToEndTests.jaco(["token", "list", "--server", daemon.server, "--ca-cert", other.caCertificate, "--token", bootstrap])
        #expect(wrongCA.status == 1)
        #expect(wrongCA.stderr.hasPrefix("unavailable: TLS"))
        // The generated material: keys 0600, the socket 0660, and SANs that include localhost.
        for key in ["tls/server.key", "tls/ca.key"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: daemon.dataDirectory.appendingPathComponent(key).path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(key)")
        }
        let socketAttributes = try FileManager.default.attributesOfItem(atPath: daemon.socket)
        #expect((socketAttributes[.posixPermissions] as? Int) == 0o660)
        let byName = try await EndToEndTests.jaco(["token", "list", "--server", "localhost:\(daemon.port)", "--ca-cert", daemon.caCertificate, "--token", bootstrap])
        #expect(byName.status == 0, "\(byName.stderr)")

        let missingCA = try await EndToEndTests.jaco(["token", "list", "--server", daemon.server, "--ca-cert", "/nonexistent/ca.crt", "--token", bootstrap])
        #expect(missingCA.status == 1)
        #expect(missingCA.stderr.contains("'/nonexistent/ca.crt'"))
        let unreachable = try await EndToEndTests.jaco(["token", "list", "--server", "127.0.0.1:\(freePort())", "--ca-cert", daemon.caCertificate, "--token", bootstrap])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("unavailable:"))
    }

    @Test("A relative --socket is taken from jacod's current directory, as the shell means it")
    func relativeSocketFlag() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-cwd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // The later --socket wins over the harness's own absolute one.
        let daemon = try Daemon(config: "memory.toml", extraArguments: ["--socket", "run/jaco.sock"], workingDirectory: directory)
        defer { daemon.remove() }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("run"), withIntermediateDirectories: true)
        try await daemon.start()
        let socket = directory.appendingPathComponent("run/jaco.sock").path
        #expect(FileManager.default.fileExists(atPath: socket))
        #expect(!FileManager.default.fileExists(atPath: daemon.dataDirectory.appendingPathComponent("run/jaco.sock").path))
        _ = try await daemon.jaco(["cluster", "init"])
        let listed = try await EndToEndTests.jaco(["token", "list", "--socket", socket])
        #expect(listed.status == 0 && listed.stdout.contains("bootstrap"), "\(listed.stderr)")
    }

    @Test("One config file drives the CLI: [client] from --config or JACO_CONFIG; flags override it")
    func configDrivenClient() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let file = daemon.dataDirectory.appendingPathComponent("client.toml")
        try "[client]\nserver = \"\(daemon.server)\"\nca_cert = \"\(daemon.caCertificate)\"\n".write(to: file, atomically: true, encoding: .utf8)

        let byFlag = try await EndToEndTests.jaco(["token", "list", "--config", file.path], environment: ["JACO_TOKEN": bootstrap])
        #expect(byFlag.status == 0, "\(byFlag.stderr)")
        #expect(byFlag.stdout.contains("bootstrap"))
        let byEnvironment = try await EndToEndTests.jaco(["token", "list"], environment: ["JACO_TOKEN": bootstrap, "JACO_CONFIG": file.path])
        #expect(byEnvironment.status == 0, "\(byEnvironment.stderr)")
        // A flag wins over the file: a wrong --server fails to connect.
        let overridden = try await EndToEndTests.jaco(["token", "list", "--config", file.path, "--server", "127.0.0.1:\(freePort())"], environment: ["JACO_TOKEN": bootstrap])
        #expect(overridden.status == 1)
        #expect(overridden.stderr.hasPrefix("unavailable:"))
        // A bad key in [client] is named.
        try "[client]\nsever = \"x\"\n".write(to: file, atomically: true, encoding: .utf8)
        let typo = try await EndToEndTests.jaco(["token", "list", "--config", file.path], environment: ["JACO_TOKEN": bootstrap])
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("unknown key 'sever' (valid: server, ca_cert, cert, key, socket)"))
    }

    @Test("audit -f streams new events as NDJSON; an unknown --type is named")
    func auditFollow() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let unknownType = try await daemon.jaco(["audit", "--type", "token_issue,bogus"], token: bootstrap)
        #expect(unknownType.status == 1)
        #expect(unknownType.stderr.contains("'bogus'"))

        let follower = Process()
        follower.executableURL = Build.products.appendingPathComponent("jaco")
        follower.arguments = ["audit", "-f", "--type", "token_issue", "--server", daemon.server, "--ca-cert", daemon.caCertificate, "--token", bootstrap]
        let pipe = Pipe()
        follower.standardOutput = pipe
        try follower.run()
        defer { follower.terminate() }
        try await Task.sleep(for: .milliseconds(500))
        _ = try await daemon.jaco(["token", "issue", "--name", "streamed"], token: bootstrap)
        let line = try await readLine(from: pipe.fileHandleForReading, within: .seconds(10))
        let event = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(event?["type"] as? String == "token_issue")
        #expect((event?["payload"] as? [String: String])?["identity"] == "streamed")

        // SIGTERM with a follower still connected: the stream ends, the daemon drains and exits 0.
        #expect(await daemon.stop() == 0)
        let deadline = Date().addingTimeInterval(10)
        while follower.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!follower.isRunning)
        #expect(daemon.logText.contains("store closed"))
    }
}

/// The first line written to `handle`, failing after `timeout`.
func readLine(from handle: FileHandle, within timeout: Duration) async throws -> String {
    try await withThrowingTaskGroup(of: String?.self) { group in
        group.addTask {
            // A blocking read on its own thread; the pipe closes when the process is terminated.
            await Task.detached {
                var buffer = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { return String(decoding: buffer, as: UTF8.self) }
                    buffer.append(chunk)
                    if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        return String(decoding: buffer[..<newline], as: UTF8.self)
                    }
                }
            }.value
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let first else { throw DaemonError.notReady("no line within \(timeout)") }
        return first
    }
}

/// Hostile input quoted back in errors (issue 17: bounded and escaped).
@Suite("Echoed input end to end")
struct EchoedInputEndToEndTests {
    @Test("A 100 KB name or one with escape and bidi characters gets a short, escaped validation_failed over gRPC and over the Consul API")
    func hostileNames() async throws {
        try await withConsulDaemon { daemon, consul, management in
            let huge = String(repeating: "n", count: 100_000)
            let long = try await daemon.jaco(["token", "issue", "--name", huge], token: management)
            #expect(long.status == 1)
            #expect(long.stderr.hasPrefix("validation_failed: identity 'nnnn"), "\(long.stderr.prefix(200))")
            #expect(long.stderr.contains("…(99872 more characters)"))
            #expect(long.stderr.count < 1000)
            let hostile = try await daemon.jaco(["token", "issue", "--name", "ok\u{1B}[2J\u{202E}gpj.exe"], token: management)
            #expect(hostile.stderr.contains("ok\\u{1B}[2J\\u{202E}gpj.exe"), "\(hostile.stderr)")
            #expect(!hostile.stderr.contains("\u{1B}") && !hostile.stderr.contains("\u{202E}"))

            let policy = try await consul.put("/v1/acl/policy", token: management, body: #"{"Name": "\#(huge)"}"#)
            #expect(policy.status == 400)
            #expect(policy.body.count < 1100, "\(policy.body.count) bytes")
            #expect(policy.body.contains("more characters"))
        }
    }
}

