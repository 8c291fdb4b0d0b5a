import ClusterTLS
import Foundation
import GRPCTransport
import JacoKernel
import JacoTestKit
import Testing

/// Certificates that renew and reload in a running `jacod`.
@Suite("Certificate lifecycle end to end")
struct CertificateLifecycleTests {
    /// The leaf certificate a TLS listener serves now, as OpenSSL's client sees it.
    static func servedSubject(_ port: Int, ca: String) async throws -> String {
        let result = try await offPool {
            try runToCompletion(URL(fileURLWithPath: "/usr/bin/openssl"), ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca], timeout: 20)
        }
        return result.stdout.split(separator: "\n").first { $0.hasPrefix("subject=") }.map(String.init) ?? "(no subject: \(result.stderr))"
    }

    /// The served leaf certificate's expiry, read from `openssl s_client -showcerts`.
    static func servedNotAfter(_ port: Int, ca: String, scratch: URL) async throws -> Date? {
        let result = try await offPool {
            try runToCompletion(URL(fileURLWithPath: "/usr/bin/openssl"), ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca, "-showcerts"], timeout: 20)
        }
        guard let begin = result.stdout.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = result.stdout.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<result.stdout.endIndex)
        else { return nil }
        try String(result.stdout[begin.lowerBound..<end.upperBound]).write(to: scratch, atomically: true, encoding: .utf8)
        return CertificateFiles.summary(role: "served", path: scratch.path)?.notAfter
    }

    @Test("A server certificate past two thirds of its life is renewed from the cluster CA at start, and the new one is served")
    func renewalAtStart() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        let directory = daemon.dataDirectory.appendingPathComponent("tls")
        _ = try TLSMaterial.ensure(in: directory)
        let authority = try CertificateAuthority(pem: try #require(TLSMaterial.localAuthority(in: directory)))
        let now = Date()
        let aging = try authority.issueCertificate(
            commonName: "jacod", names: ["127.0.0.1", "localhost"], usages: [.serverAuth],
            validity: now.addingTimeInterval(-500 * 86_400)...now.addingTimeInterval(100 * 86_400))
        try aging.certificatePEM.write(to: directory.appendingPathComponent("server.crt"), atomically: true, encoding: .utf8)
        try aging.privateKeyPEM.write(to: directory.appendingPathComponent("server.key"), atomically: true, encoding: .utf8)
        chmod(directory.appendingPathComponent("server.key").path, 0o600)

        try await daemon.start()
        // (The log line "renewed the server certificate" is not checked: when the harness
        // retries a start after a port race, the log of the first start is gone.)
        #expect(!daemon.logText.contains("cannot renew"), "\(daemon.logText)")
        let onDisk = try #require(CertificateFiles.summary(role: "server", path: directory.appendingPathComponent("server.crt").path))
        #expect(onDisk.notAfter > now.addingTimeInterval(700 * 86_400))
        let keyMode = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("server.key").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        for port in [daemon.port, daemon.httpPort] {
            let served = try await Self.servedNotAfter(port, ca: daemon.caCertificate, scratch: daemon.dataDirectory.appendingPathComponent("served.pem"))
            #expect(served == onDisk.notAfter, "port \(port)")
        }
        let status = try await daemon.jaco(["cluster", "status"])
        #expect(status.status == 0, "\(status.stderr)")
    }

    @Test("A certificate's summary is parsed once per version of its file: replaced by rename or rewritten in place, the new one shows")
    func summaryFollowsTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-certsummary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let authority = try CertificateAuthority.create(commonName: "summary test", years: 1)
        let path = directory.appendingPathComponent("server.crt").path
        func issue(days: Double) throws -> String {
            let now = Date()
            return try authority.issueCertificate(
                commonName: "jacod", names: ["127.0.0.1"], usages: [.serverAuth], validity: now.addingTimeInterval(-60)...now.addingTimeInterval(days * 86_400)
            ).certificatePEM
        }
        try issue(days: 10).write(toFile: path, atomically: true, encoding: .utf8)
        let first = try #require(CertificateFiles.summary(role: "server", path: path))
        #expect(CertificateFiles.summary(role: "ca", path: path)?.role == "ca")
        try issue(days: 20).write(toFile: path, atomically: true, encoding: .utf8)  // by rename: a new inode
        let renamed = try #require(CertificateFiles.summary(role: "server", path: path))
        #expect(renamed.notAfter > first.notAfter.addingTimeInterval(9 * 86_400))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))  // in place: same inode
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(try issue(days: 30).utf8))
        try handle.close()
        let rewritten = try #require(CertificateFiles.summary(role: "server", path: path))
        #expect(rewritten.notAfter > renamed.notAfter.addingTimeInterval(9 * 86_400))
    }

    /// Writes a server certificate named `commonName` (and its key) from `authority` over the
    /// operator's files, key first, each by rename.
    static func replaceServerCertificate(_ authority: CertificateAuthority, commonName: String, days: Double, in directory: URL) throws {
        let now = Date()
        let issued = try authority.issueCertificate(
            commonName: commonName, names: ["127.0.0.1", "localhost"], usages: [.serverAuth], validity: now.addingTimeInterval(-60)...now.addingTimeInterval(days * 86_400))
        for (text, name, mode) in [(issued.privateKeyPEM, "server.key", 0o600), (issued.certificatePEM, "server.crt", 0o644)] {
            let temporary = directory.appendingPathComponent(".\(name).new")
            #expect(FileManager.default.createFile(atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]))
            #expect(rename(temporary.path, directory.appendingPathComponent(name).path) == 0)
        }
    }

    @Test("Operator certificates: a warning when one expires within 30 days; SIGHUP and changed files serve the new certificate while an open connection keeps working")
    func reload() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: scratch) }
        let authority = try CertificateAuthority.create(commonName: "Operator CA", years: 1)
        let ca = scratch.appendingPathComponent("ca.crt")
        try authority.certificatePEM.write(to: ca, atomically: true, encoding: .utf8)
        try Self.replaceServerCertificate(authority, commonName: "jacod-one", days: 20.5, in: scratch)
        let config = scratch.appendingPathComponent("jaco.toml")
        let base = try String(contentsOfFile: Build.config("memory.toml"), encoding: .utf8)
        try (base + "\n[tls]\nca_cert = \"\(ca.path)\"\ncert = \"\(scratch.path)/server.crt\"\nkey = \"\(scratch.path)/server.key\"\n")
            .write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(config: config.path)
        defer { daemon.remove() }
        try await daemon.start()
        #expect(daemon.logText.contains("the server certificate expires in 20 days (less than 30)"), "\(daemon.logText)")
        #expect(!daemon.logText.contains("renewed"))
        #expect(try await Self.servedSubject(daemon.port, ca: ca.path).contains("jacod-one"))

        let client = JacoClient(target: .tls(host: "127.0.0.1", port: daemon.port, caCertificate: ca.path), token: nil)
        try await client.connected { session in
            _ = try await session.status()
            try Self.replaceServerCertificate(authority, commonName: "jacod-two", days: 300, in: scratch)
            daemon.send(SIGHUP)
            try await Self.waitUntilServed("jacod-two", daemon.httpPort, ca: ca.path)
            #expect(daemon.logText.contains("reloaded the TLS certificate (SIGHUP)"), "\(daemon.logText)")
            #expect(try await Self.servedSubject(daemon.port, ca: ca.path).contains("jacod-two"))
            // The connection opened before the reload still answers.
            #expect(try await session.status().version.isEmpty == false)

            // Changed files alone are noticed too (polled every few seconds).
            try Self.replaceServerCertificate(authority, commonName: "jacod-three", days: 300, in: scratch)
            try await Self.waitUntilServed("jacod-three", daemon.port, ca: ca.path, within: 20)
            #expect(try await session.status().version.isEmpty == false)

            // A certificate without its key is refused; the pair in service stays.
            let stray = try authority.issueCertificate(commonName: "jacod-stray", names: ["127.0.0.1"], usages: [.serverAuth])
            try stray.certificatePEM.write(to: scratch.appendingPathComponent("server.crt"), atomically: true, encoding: .utf8)
            daemon.send(SIGHUP)
            try await Task.sleep(for: .milliseconds(500))
            #expect(daemon.logText.contains("cannot reload the TLS certificate (SIGHUP); still serving the previous one: the key '\(scratch.path)/server.key' does not belong to the certificate"), "\(daemon.logText)")
            #expect(try await Self.servedSubject(daemon.port, ca: ca.path).contains("jacod-three"))
        }
        #expect(daemon.logText.contains("reloaded the TLS certificate (files changed)"), "\(daemon.logText)")
    }

    static func waitUntilServed(_ commonName: String, _ port: Int, ca: String, within seconds: Double = 5) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try await servedSubject(port, ca: ca)
            if last.contains(commonName) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("\(commonName) not served within \(seconds) s; last: \(last)")
    }
}
