import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import JacoKernel
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Runs a Hummingbird router as one of jacod's HTTP listeners: HTTPS with the cluster's TLS
/// material, or plain HTTP (loopback only, checked by the factories), until cancelled; then a
/// graceful shutdown, closing `drain` first so blocking waits end at once.
enum HTTPServing {
    static func run(
        _ router: Router<BasicRequestContext>, host: String, port: Int, tls: TLSFiles?, label: String, drain: ShutdownDrain?,
        onListening: @escaping @Sendable (_ scheme: String, _ address: String) -> Void
    ) async throws {
        let server: HTTPServerBuilder = try tls.map { try .tls(.http1(), tlsConfiguration: try tlsConfiguration($0)) } ?? .http1()
        var logger = Logger(label: label)
        logger.logLevel = .warning
        let scheme = tls == nil ? "http" : "https"
        let app = Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "jacod"),
            onServerRunning: { channel in
                let address = channel.localAddress.map { HostPort.format(host: $0.ipAddress ?? host, port: $0.port ?? port) } ?? "\(host):\(port)"
                onListening(scheme, address)
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        // Cancelling becomes a graceful shutdown, like the gRPC listener's.
        let serving = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await serving.value
        } onCancel: {
            drain?.close()
            Task { await group.triggerGracefulShutdown() }
        }
    }

    /// The TLS 1.2 suites the HTTP listeners offer (OpenSSL names), as Mozilla's "intermediate"
    /// profile lists them.
    static let aeadCipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    private static func tlsConfiguration(_ files: TLSFiles) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain.path).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.privateKey.path, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            // TLS 1.2 at least, and for TLS 1.2 only AEAD suites with forward secrecy (TLS 1.3's
            // are all AEAD): no CBC, no SHA-1 MACs, no static RSA key exchange.
            configuration.minimumTLSVersion = .tlsv12
            configuration.cipherSuites = aeadCipherSuites
            return configuration
        } catch {
            throw JacoError(.configInvalid, "cannot load the TLS certificate '\(files.certificateChain.path)' or key '\(files.privateKey.path)': \(error)")
        }
    }
}
