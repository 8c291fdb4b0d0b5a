import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import JacoKernel
import JacoNIOSSL
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Runs a Hummingbird router as one of jacod's HTTP listeners: HTTPS with the cluster's TLS
/// material, or plain HTTP (loopback only, checked by the factories), until cancelled; then a
/// graceful shutdown, closing `drain` first so blocking waits end at once.
enum HTTPServing {
    static func run<Context: RequestContext>(
        _ router: Router<Context>, host: String, port: Int, tls: TLSSettings?, label: String, drain: ShutdownDrain?,
        limits: ConnectionLimits? = nil, onListening: @escaping @Sendable (_ scheme: String, _ address: String) -> Void
    ) async throws where Context.Source == ApplicationRequestContextSource {
        // With limits: a gate on the number of open connections, a deadline for the TLS
        // handshake, and an idle timeout (Hummingbird's: a connection with a request in
        // progress, such as a blocking query, is not idle).
        let gate = limits.map { ConnectionGate(limit: $0.maxConnections) }
        let handshakeTimeout = tls == nil ? nil : limits?.handshakeTimeout
        let http1: HTTPServerBuilder = .http1(
            configuration: HTTP1Channel.Configuration(
                additionalChannelHandlers: (gate.map { [ConnectionGateHandler(gate: $0)] } ?? [])
                    + (handshakeTimeout.map { [HandshakeDeadlineHandler(timeout: $0)] } ?? []),
                idleTimeout: limits.map { TimeAmount($0.idleTimeout) }))
        let server: HTTPServerBuilder = try tls.map { try .tls(http1, tlsConfiguration: try NIOTLSConfiguration.server($0)) } ?? http1
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
}
