import ClusterTLS
import Foundation
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

    /// A client certificate and key signed by `authority`, written under `directory`.
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
        let clusterCA = try CertificateAuthority(pem: try #require(TLSMaterial.localAuthority(in: daemon.dataDirectory.appendingPathComponent("tls"))))
        let good = try Self.clientCertificate(from: clusterCA, named: "alice", in: daemon.dataDirectory)
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
}
