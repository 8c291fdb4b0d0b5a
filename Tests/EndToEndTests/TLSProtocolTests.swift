import Foundation
import JacoTestKit
import Testing

/// What TLS the listeners accept, asked with OpenSSL's own client.
@Suite("TLS versions and suites end to end")
struct TLSProtocolTests {
    /// Whether `openssl s_client` completes a handshake with `arguments` (the CA pinned).
    static func handshakes(_ port: Int, ca: String, _ arguments: [String]) async throws -> Bool {
        let result = try await offPool {
            try runToCompletion(
                URL(fileURLWithPath: "/usr/bin/openssl"),
                ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca, "-verify_return_error"] + arguments, timeout: 20)
        }
        return result.status == 0 && result.stdout.contains("Cipher is") && !result.stdout.contains("Cipher is (NONE)")
    }

    @Test("gRPC and Consul HTTPS refuse TLS 1.1 and CBC suites, and speak TLS 1.2 with AEAD and TLS 1.3")
    func defaults() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let ca = daemon.caCertificate
        for port in [daemon.port, daemon.httpPort] {
            // SECLEVEL=0 lets OpenSSL's client offer TLS 1.1 at all: the refusal must be the server's.
            #expect(try await !Self.handshakes(port, ca: ca, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]), "port \(port)")
            #expect(try await !Self.handshakes(port, ca: ca, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"]), "port \(port)")
            #expect(try await Self.handshakes(port, ca: ca, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]), "port \(port)")
            #expect(try await Self.handshakes(port, ca: ca, ["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"]), "port \(port)")
            #expect(try await Self.handshakes(port, ca: ca, ["-tls1_3"]), "port \(port)")
        }
        // The gRPC listener still speaks gRPC through our TLS.
        let initialized = try await daemon.jaco(["cluster", "init"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
    }

    @Test("tls_min_version = \"1.3\" refuses TLS 1.2 on every TLS listener; the CLI still connects")
    func tls13Only() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-tls13-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: config) }
        let base = try String(contentsOfFile: Build.config("memory.toml"), encoding: .utf8)
        try (base + "\n[tls]\ntls_min_version = \"1.3\"\n").write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(config: config.path, extraArguments: [])
        defer { daemon.remove() }
        try await daemon.start()
        for port in [daemon.port, daemon.httpPort] {
            #expect(try await !Self.handshakes(port, ca: daemon.caCertificate, ["-tls1_2"]), "port \(port)")
            #expect(try await Self.handshakes(port, ca: daemon.caCertificate, ["-tls1_3"]), "port \(port)")
        }
        let initialized = try await daemon.jaco(["cluster", "init"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
    }
}
