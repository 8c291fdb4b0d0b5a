import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import JacoKernel
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Serves the Consul-compatible ACL API over HTTPS (or plain HTTP on loopback when the config
/// allows it), on Hummingbird.
struct ConsulHTTPListener: KernelTransport {
    let host: String
    let port: Int
    /// nil: plain HTTP (loopback only, checked by the factory).
    let tls: TLSFiles?

    var endpointDescription: String { "\(tls == nil ? "http" : "https")://\(HostPort.format(host: host, port: port))" }

    func serve(_ kernel: Kernel, onListening: @escaping @Sendable (String) -> Void) async throws {
        let drain = ShutdownDrain()
        let bound = Mutex<String>(endpointDescription)
        let router = Router()
        ConsulAPI(kernel: kernel, drain: drain, leaderAddress: { bound.withLock { $0 } }).register(on: router)
        let server: HTTPServerBuilder = try tls.map { try .tls(.http1(), tlsConfiguration: try Self.tlsConfiguration($0)) } ?? .http1()
        var logger = Logger(label: "jacod.consul-http")
        logger.logLevel = .warning
        let scheme = tls == nil ? "http" : "https"
        let app = Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "jacod"),
            onServerRunning: { channel in
                let address = channel.localAddress.map { HostPort.format(host: $0.ipAddress ?? host, port: $0.port ?? port) } ?? "\(host):\(port)"
                bound.withLock { $0 = address }
                onListening("\(scheme)://\(address)")
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        // Like the gRPC listener: cancelling `serve` becomes a graceful shutdown, and blocking
        // queries end at once instead of holding the drain up.
        let serving = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await serving.value
        } onCancel: {
            drain.close()
            Task { await group.triggerGracefulShutdown() }
        }
    }

    private static func tlsConfiguration(_ files: TLSFiles) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain.path).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.privateKey.path, format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        } catch {
            throw JacoError(.configInvalid, "cannot load the TLS certificate '\(files.certificateChain.path)' or key '\(files.privateKey.path)': \(error)")
        }
    }
}
