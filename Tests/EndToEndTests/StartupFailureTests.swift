import Foundation
import JacoTestKit
import Testing

/// `jacod` refuses to start, naming what is wrong and how to fix it, before it creates anything.
@Suite("jacod start-up failures end to end")
struct StartupFailureTests {
    /// Runs `jacod` to completion (at most 60 s; a daemon that starts is a failure here).
    static func jacod(_ arguments: [String]) async throws -> CommandResult {
        try await offPool { try runToCompletion(Build.products.appendingPathComponent("jacod"), arguments, timeout: 60) }
    }

    /// `jacod` with `arguments` and its three TCP listeners on free ports (but the flags in
    /// `fixed`, e.g. a port a test took on purpose); when a free port was taken between picking
    /// and binding (tests run in parallel), again on new ports, so the failure a test provokes is
    /// not hidden behind another `listen_failed`.
    static func jacodOnFreePorts(_ arguments: [String], fixed: [String: String] = [:]) async throws -> CommandResult {
        var result = CommandResult(status: 1, stdout: "", stderr: "")
        for _ in 0..<3 {
            var ports = ["--grpc-listen": "127.0.0.1:\(freePort())", "--http-listen": "127.0.0.1:\(freePort())", "--metrics-listen": "127.0.0.1:\(freePort())"]
            ports.merge(fixed) { $1 }
            result = try await jacod(arguments + ports.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] })
            let takenMeanwhile = result.stderr.contains("listen_failed") && result.stderr.contains("address already in use")
                && !fixed.values.contains { result.stderr.contains("cannot listen on \($0)") }
            if !takenMeanwhile { return result }
        }
        return result
    }

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("jaco-start-\(UUID().uuidString)")
    }

    @Test("a taken port names the listener, the address and the flag; nothing is created", arguments: ["grpc", "consul-http", "metrics"])
    func portInUse(kind: String) async throws {
        let first = try Daemon(config: "sqlite.toml")
        defer { first.remove() }
        try await first.start()
        let taken: String
        let flag: String
        switch kind {
        case "grpc": (taken, flag) = (first.server, "--grpc-listen")
        case "consul-http": (taken, flag) = ("127.0.0.1:\(first.httpPort)", "--http-listen")
        default: (taken, flag) = ("127.0.0.1:\(first.metricsPort)", "--metrics-listen")
        }
        let data = Self.scratch()
        defer { try? FileManager.default.removeItem(at: data) }
        let second = try await Self.jacodOnFreePorts(
            ["--config", Build.config("sqlite.toml"), "--data-dir", data.path, "--socket", data.appendingPathComponent("s.sock").path], fixed: [flag: taken])
        #expect(second.status == 1)
        #expect(second.stderr.contains("jacod: listen_failed: the \(kind) listener cannot listen on \(taken): address already in use"), "\(second.stderr)")
        #expect(second.stderr.contains("move it with \(flag) host:port"))
        #expect(!FileManager.default.fileExists(atPath: data.path), "nothing is created before the ports are checked")
        #expect(!second.stdout.contains("jacod is ready"))
    }

    @Test("a unix socket another daemon serves is refused, and left alone")
    func socketInUse() async throws {
        let first = try Daemon(config: "memory.toml")
        defer { first.remove() }
        try await first.start()
        let data = Self.scratch()
        defer { try? FileManager.default.removeItem(at: data) }
        let second = try await Self.jacodOnFreePorts([
            "--config", Build.config("memory.toml"), "--data-dir", data.path, "--socket", first.socket,
        ])
        #expect(second.status == 1)
        #expect(second.stderr.contains("the grpc-unix listener cannot listen on \(first.socket): another process is serving this socket"), "\(second.stderr)")
        #expect(second.stderr.contains("--socket <path>"))
        let stillServed = try await jaco(["cluster", "status", "--socket", first.socket])
        #expect(stillServed.status == 0, "the first daemon's socket is untouched")
    }

    @Test("the default config's taken port names the flag, and the config's entry when a file was given")
    func configEntryNamed() async throws {
        let first = try Daemon(config: "sqlite.toml")
        defer { first.remove() }
        try await first.start()
        let data = Self.scratch()
        defer { try? FileManager.default.removeItem(at: data) }
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let config = data.appendingPathComponent("jaco.toml")
        try """
            [storage]
            engine = "memory"
            [[listeners]]
            kind = "grpc"
            address = "\(first.server)"
            """.write(to: config, atomically: true, encoding: .utf8)
        let second = try await Self.jacod(["--config", config.path, "--data-dir", data.appendingPathComponent("d").path])
        #expect(second.status == 1)
        #expect(second.stderr.contains("the grpc listener cannot listen on \(first.server)"), "\(second.stderr)")
        #expect(second.stderr.contains("or change the [[listeners]] entry with kind = \"grpc\" (its 'address') in \(config.path)"))
    }

    @Test("an unusable data directory is named")
    func dataDirectoryNamed() async throws {
        let data = Self.scratch()
        defer { try? FileManager.default.removeItem(at: data) }
        try Data("not a directory".utf8).write(to: data)
        let result = try await Self.jacodOnFreePorts([
            "--config", Build.config("memory.toml"), "--data-dir", data.appendingPathComponent("inner").path,
            "--socket", FileManager.default.temporaryDirectory.appendingPathComponent("jaco-\(UUID().uuidString).sock").path,
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("jacod: config_invalid: cannot create the data directory '\(data.path)/inner'"), "\(result.stderr)")
        #expect(result.stderr.contains("--data-dir"))
    }

    @Test("a [tls] file that is not PEM is named before the store opens")
    func badTLSFileNamed() async throws {
        let data = Self.scratch()
        defer { try? FileManager.default.removeItem(at: data) }
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let material = data.appendingPathComponent("tls")
        let files = try TestCertificates.create(in: material)
        try Data("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".utf8).write(to: files.serverCertificate)
        let config = data.appendingPathComponent("jaco.toml")
        try """
            [storage]
            engine = "sqlite"
            [tls]
            ca_cert = "\(files.caCertificate.path)"
            cert = "\(files.serverCertificate.path)"
            key = "\(files.serverKey.path)"
            [[listeners]]
            kind = "grpc"
            address = "127.0.0.1:\(freePort())"
            """.write(to: config, atomically: true, encoding: .utf8)
        let result = try await Self.jacod(["--config", config.path, "--data-dir", data.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("jacod: config_invalid: '\(files.serverCertificate.path)' ([tls] in \(config.path)) is not a PEM certificate"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("jaco.sqlite").path), "the store was not opened")
    }

    @Test("usage errors exit 64, as --help says; jacod --version and jaco version print the version")
    func exitCodesAndVersions() async throws {
        let usage = try await jaco(["token", "issue"])
        #expect(usage.status == 64)
        #expect(try await jaco(["--help"]).stdout.replacingOccurrences(of: "\n", with: " ").contains("64 for a usage error"))
        #expect(try await Self.jacod(["--no-such-flag"]).status == 64)
        let version = try await jaco(["version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("jaco 0."))
        let daemonVersion = try await Self.jacod(["--version"])
        #expect(daemonVersion.status == 0)
        #expect(daemonVersion.stdout.hasPrefix("0."))
        let completion = try await jaco(["--generate-completion-script", "bash"])
        #expect(completion.status == 0)
        #expect(completion.stdout.contains("cluster"))
    }
}

extension StartupFailureTests {
    @Test("an etcd that cannot be reached is named, and jacod exits")
    func unreachableEtcdNamed() async throws {
        let data = Self.scratch()
        defer { try? FileManager.default.removeItem(at: data) }
        let endpoint = "http://127.0.0.1:\(freePort())"
        let result = try await Self.jacodOnFreePorts([
            "--config", Build.config("etcd.toml"), "--etcd-endpoints", endpoint, "--data-dir", data.path,
            "--socket", data.appendingPathComponent("s.sock").path,
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("jacod: unavailable: etcd is unreachable"), "\(result.stderr)")
        #expect(result.stderr.contains(endpoint))
    }

    @Test("--log-format json writes one JSON object per line, the fatal error too")
    func jsonLogs() async throws {
        let daemon = try Daemon(config: "memory.toml", extraArguments: ["--log-format", "json", "--log-level", "debug"])
        defer { daemon.remove() }
        try await daemon.start()
        let objects = daemon.logText.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(objects.count >= 5)
        for line in objects {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["level"] is String && object?["message"] is String, "\(line)")
        }
        let failed = try await Self.jacod(["--log-format", "json", "--config", "/nonexistent/jaco.toml"])
        #expect(failed.status == 1)
        let line = try #require(failed.stderr.split(separator: "\n").last)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["level"] as? String == "critical")
        #expect(object?["code"] as? String == "config_invalid")
        #expect((object?["message"] as? String)?.contains("/nonexistent/jaco.toml") == true)
    }
}

extension StartupFailureTests {
    static func mode(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? -1) & 0o777
    }

    @Test("jacod's files are its own: data directory 0700, store and keys 0600, ca.crt 0644", arguments: ["sqlite.toml", "lmdb.toml"])
    func fileModes(config: String) async throws {
        let data = Self.scratch()
        defer { try? FileManager.default.removeItem(at: data) }
        let daemon = try Daemon(config: config, extraArguments: ["--data-dir", data.path])  // the later --data-dir wins
        defer { daemon.remove() }
        try await daemon.start()
        #expect(Self.mode(data) == 0o700)
        let store = data.appendingPathComponent(config == "sqlite.toml" ? "jaco.sqlite" : "lmdb/data.mdb")
        #expect(Self.mode(store) == 0o600, "\(store.path)")
        #expect(Self.mode(data.appendingPathComponent("tls/server.key")) == 0o600)
        #expect(Self.mode(data.appendingPathComponent("tls/ca.key")) == 0o600)
        #expect(Self.mode(data.appendingPathComponent("tls/ca.crt")) == 0o644)
    }

    @Test("a data directory others can read is refused, naming the chmod; allow_shared_permissions starts with a warning")
    func sharedDataDirectory() async throws {
        let data = Self.scratch()
        defer { try? FileManager.default.removeItem(at: data) }
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let refused = try await Self.jacodOnFreePorts([
            "--config", Build.config("memory.toml"), "--data-dir", data.path, "--socket", data.appendingPathComponent("s.sock").path,
        ])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("jacod: config_invalid: '\(data.path)' can be read or written by other users (mode 755); run 'chmod 700 \(data.path)'"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("tls").path), "nothing was created")

        let config = Self.scratch().appendingPathExtension("toml")
        defer { try? FileManager.default.removeItem(at: config) }
        try "[storage]\nengine = \"memory\"\nallow_shared_permissions = true\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(config: config.path, extraArguments: ["--data-dir", data.path])
        defer { daemon.remove() }
        try await daemon.start()
        #expect(daemon.logText.contains("can be read or written by other users (mode 755); running anyway"))
    }
}
