import ClusterTLS
import Foundation
import JacoKernel
import JacoTestKit
import Testing

/// `verify_incoming = true` on the gRPC and Consul HTTPS listeners, with the real daemon.
@Suite("Mutual TLS end to end")
struct MutualTLSTests {
    /// A daemon whose gRPC and Consul listeners demand a client certificate from the cluster CA.
    static func mutualDaemon() async throws -> (Daemon, URL) {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-mtls-\(UUID().uuidString).toml")
        try """
            [storage]
            engine = "memory"

            [[listeners]]
            kind = "grpc"
            address = "127.0.0.1:7400"
            verify_incoming = true

            [[listeners]]
            kind = "grpc-unix"
            path = "jaco.sock"

            [[listeners]]
            kind = "consul-http"
            address = "127.0.0.1:8501"
            verify_incoming = true
            """.write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(config: config.path)
        try await daemon.start()
        return (daemon, config)
    }

    /// A client certificate and key signed by `authority` (another CA), written under `directory`.
    static func clientCertificate(from authority: CertificateAuthority, named name: String, in directory: URL) throws -> (certificate: String, key: String) {
        let issued = try authority.issueCertificate(commonName: name, names: [], usages: [.clientAuth], years: 1)
        let certificate = directory.appendingPathComponent("\(name).crt"), key = directory.appendingPathComponent("\(name).key")
        try issued.certificatePEM.write(to: certificate, atomically: true, encoding: .utf8)
        try issued.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
        return (certificate.path, key.path)
    }

    /// `curl` against the Consul API with an optional client certificate: its exit status and body.
    static func curl(_ daemon: Daemon, token: String?, client: (certificate: String, key: String)?) async throws -> CommandResult {
        var arguments = ["-sS", "--cacert", daemon.caCertificate, "\(daemon.httpBase)/v1/acl/tokens"]
        if let token { arguments += ["-H", "X-Consul-Token: \(token)"] }
        if let client { arguments += ["--cert", client.certificate, "--key", client.key] }
        let finished = arguments
        return try await offPool { try runToCompletion(URL(fileURLWithPath: "/usr/bin/curl"), finished, timeout: 20) }
    }

    @Test("Without a certificate, or with one from another CA, both listeners refuse; the cluster CA's certificate is accepted, and the token is still required")
    func verifyIncoming() async throws {
        let (daemon, config) = try await Self.mutualDaemon()
        defer { daemon.remove(); try? FileManager.default.removeItem(at: config) }
        let bootstrap = try await EndToEndTests.jaco(["cluster", "init", "--socket", daemon.socket]).lastWord
        // The first client certificate comes over the unix socket (no TLS there).
        let certificates = daemon.dataDirectory.appendingPathComponent("certs")
        let issued = try await EndToEndTests.jaco(["cluster", "cert", "issue", "--client", "alice", "--out", certificates.path, "--socket", daemon.socket])
        #expect(issued.status == 0, "\(issued.stderr)")
        #expect(issued.stdout.contains("alice.crt"))
        let good = (certificate: certificates.appendingPathComponent("alice.crt").path, key: certificates.appendingPathComponent("alice.key").path)
        #expect(try FileManager.default.attributesOfItem(atPath: good.key)[.posixPermissions] as? Int == 0o600)
        let stranger = try Self.clientCertificate(from: try CertificateAuthority.create(commonName: "Another CA"), named: "mallory", in: daemon.dataDirectory)

        // gRPC: the CLI.
        let none = try await daemon.jaco(["token", "list"], token: bootstrap)
        #expect(none.status == 1)
        #expect(none.stderr.contains("the server demands a client certificate and none was given"), "\(none.stderr)")
        let foreign = try await daemon.jaco(["token", "list", "--client-cert", stranger.certificate, "--client-key", stranger.key], token: bootstrap)
        #expect(foreign.status == 1)
        #expect(foreign.stderr.contains("the server did not accept the client certificate '\(stranger.certificate)'"), "\(foreign.stderr)")
        let accepted = try await daemon.jaco(["token", "list", "--client-cert", good.certificate, "--client-key", good.key], token: bootstrap)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.stdout.contains("bootstrap"))
        let tokenless = try await daemon.jaco(["token", "list", "--client-cert", good.certificate, "--client-key", good.key])
        #expect(tokenless.status == 1)
        #expect(tokenless.stderr.hasPrefix("token_invalid:"), "\(tokenless.stderr)")
        let halfGiven = try await daemon.jaco(["token", "list", "--client-cert", good.certificate], token: bootstrap)
        #expect(halfGiven.status == 1)
        #expect(halfGiven.stderr.contains("without its key: pass --client-key too"), "\(halfGiven.stderr)")

        // Consul HTTPS: curl.
        #expect(try await Self.curl(daemon, token: bootstrap, client: nil).status != 0)
        #expect(try await Self.curl(daemon, token: bootstrap, client: stranger).status != 0)
        let listed = try await Self.curl(daemon, token: bootstrap, client: good)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("\"AccessorID\""), "\(listed.stdout)")
        let anonymous = try await Self.curl(daemon, token: nil, client: good)
        #expect(anonymous.status == 0)
        #expect(!anonymous.stdout.contains("\"AccessorID\""), "\(anonymous.stdout)")
    }

    @Test("jaco cluster cert issue: over mTLS with an operator token, audited, shown by status; refused without acl:write, over existing files, or without the CA's key")
    func issueCommand() async throws {
        let (daemon, config) = try await Self.mutualDaemon()
        defer { daemon.remove(); try? FileManager.default.removeItem(at: config) }
        let bootstrap = try await EndToEndTests.jaco(["cluster", "init", "--socket", daemon.socket]).lastWord
        let out = daemon.dataDirectory.appendingPathComponent("certs").path
        _ = try await EndToEndTests.jaco(["cluster", "cert", "issue", "--client", "alice", "--out", out, "--socket", daemon.socket])
        let alice = ["--client-cert", "\(out)/alice.crt", "--client-key", "\(out)/alice.key"]

        // Over TLS, presenting alice's certificate, with the bootstrap token.
        let bob = try await daemon.jaco(["cluster", "cert", "issue", "--client", "bob", "--days", "30", "--out", out, "-o", "json"] + alice, token: bootstrap)
        #expect(bob.status == 0, "\(bob.stderr)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(bob.stdout.utf8)) as? [String: Any])
        #expect(answer["name"] as? String == "bob")
        let notAfter = try #require(CertificateFiles.summary(role: "client", path: "\(out)/bob.crt")?.notAfter)
        #expect(abs(notAfter.timeIntervalSinceNow - 30 * 86_400) < 600)

        let audit = try await daemon.jaco(["audit", "--type", "client_certificate_issue", "-o", "json"] + alice, token: bootstrap)
        #expect(audit.stdout.contains("\"bob\""), "\(audit.stdout) \(audit.stderr)")
        #expect(audit.stdout.contains("\"alice\""))
        #expect(!audit.stdout.contains("PRIVATE KEY"))

        let status = try await daemon.jaco(["cluster", "status"] + alice)
        #expect(status.status == 0, "\(status.stderr)")
        for role in ["server ", "ca ", "client "] { #expect(status.stdout.contains("\n\(role)"), "\(status.stdout)") }
        #expect(status.stdout.contains("CN=alice"), "\(status.stdout)")

        // A token without acl:write (made over the Consul API, no policies) may not.
        let created = try await offPool {
            try runToCompletion(URL(fileURLWithPath: "/usr/bin/curl"), [
                "-sS", "--cacert", daemon.caCertificate, "--cert", "\(out)/alice.crt", "--key", "\(out)/alice.key", "-X", "PUT",
                "-H", "X-Consul-Token: \(bootstrap)", "-d", "{\"Description\": \"no rights\"}", "\(daemon.httpBase)/v1/acl/token",
            ], timeout: 20)
        }
        let createdToken = try #require(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        let plain = try #require(createdToken["SecretID"] as? String, "\(created.stdout) \(created.stderr)")
        let denied = try await daemon.jaco(["cluster", "cert", "issue", "--client", "carol", "--out", out] + alice, token: plain)
        #expect(denied.status == 1)
        #expect(denied.stderr.hasPrefix("permission_denied:"), "\(denied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/carol.key"))
        let again = try await daemon.jaco(["cluster", "cert", "issue", "--client", "bob", "--out", out] + alice, token: bootstrap)
        #expect(again.status == 1)
        #expect(again.stderr.contains("bob.crt' exists; choose another --out, or pass --force"), "\(again.stderr)")
        let badName = try await daemon.jaco(["cluster", "cert", "issue", "--client", "no spaces", "--out", out] + alice, token: bootstrap)
        #expect(badName.stderr.hasPrefix("validation_failed: certificate name 'no spaces' is not valid"), "\(badName.stderr)")
    }

    @Test("A daemon serving the operator's own files cannot sign client certificates, and says so")
    func operatorFilesCannotSign() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-opca-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let pki = try TestCertificates.create(in: scratch)
        let config = scratch.appendingPathComponent("jaco.toml")
        let base = try String(contentsOfFile: Build.config("memory.toml"), encoding: .utf8)
        try (base + "\n[tls]\nca_cert = \"\(pki.caCertificate.path)\"\ncert = \"\(pki.serverCertificate.path)\"\nkey = \"\(pki.serverKey.path)\"\n")
            .write(to: config, atomically: true, encoding: .utf8)
        chmod(pki.serverKey.path, 0o600)
        let daemon = try Daemon(config: config.path)
        defer { daemon.remove() }
        try await daemon.start()
        _ = try await EndToEndTests.jaco(["cluster", "init", "--socket", daemon.socket])
        let refused = try await EndToEndTests.jaco(["cluster", "cert", "issue", "--client", "alice", "--out", scratch.path, "--socket", daemon.socket])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("failed_precondition: this daemon does not hold the cluster CA's key"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("alice.key").path))
    }
}
