import Foundation
import JacoTestKit
import Testing

/// What TLS the HTTP listeners accept, asked with OpenSSL's own client.
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

    @Test("The Consul listener refuses TLS 1.1 and CBC suites, and speaks TLS 1.2 with AEAD and TLS 1.3")
    func consulListener() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let (port, ca) = (daemon.httpPort, daemon.caCertificate)
        // SECLEVEL=0 lets OpenSSL's client offer TLS 1.1 at all: the refusal must be the server's.
        #expect(try await !Self.handshakes(port, ca: ca, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]))
        #expect(try await !Self.handshakes(port, ca: ca, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"]))
        #expect(try await Self.handshakes(port, ca: ca, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]))
        #expect(try await Self.handshakes(port, ca: ca, ["-tls1_3"]))
        // gRPC's TLS is built by grpc-swift-nio-transport: TLS 1.2 at least, its suites not ours.
        #expect(try await !Self.handshakes(daemon.port, ca: ca, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]))
    }
}
