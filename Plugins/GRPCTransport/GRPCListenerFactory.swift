import GRPCCore
import GRPCNIOTransportHTTP2
import JacoKernel
import JacoNIOSSL
import NIOCore
import NIOPosix
import NIOSSL

/// Binds the gRPC listener's socket and secures each accepted connection with Jaco's own TLS
/// configuration (``NIOTLSConfiguration``): grpc-swift's Posix transport builds its TLS
/// context itself and offers neither the version floor, the suites nor certificate reloads.
struct GRPCListenerFactory: HTTP2ServerTransport.ListenerFactory {
    /// Where to bind.
    enum Address {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    let address: Address
    /// The TLS configuration for TCP connections; nil for plaintext.
    let tls: TLSConfiguration?
    /// The connection cap and handshake deadline of a TCP listener; nil for the unix socket.
    var limits: ConnectionLimits? = nil
    let eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    /// ALPN for gRPC over TLS, as grpc-swift's own server offers it.
    static let applicationProtocols = ["grpc-exp", "h2"]

    func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let gate = limits.map { ConnectionGate(limit: $0.maxConnections) }
        let handshakeTimeout = limits?.handshakeTimeout
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in listenerConfigurator.configure(channel: channel) }
        let initializer: @Sendable (any Channel) -> EventLoopFuture<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel> = { channel in
            channel.eventLoop.makeCompletedFuture {
                // Over the cap: closed as soon as accepted.
                if let gate { try channel.pipeline.syncOperations.addHandler(ConnectionGateHandler(gate: gate)) }
                if let context {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    if let handshakeTimeout { try channel.pipeline.syncOperations.addHandler(HandshakeDeadlineHandler(timeout: handshakeTimeout)) }
                }
            }.flatMap {
                connectionConfigurator.configure(channel: channel, tls: context == nil ? .none : .configured(requireALPN: false))
            }
        }
        switch address {
        case .tcp(let host, let port):
            return try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
        case .unixSocket(let path):
            return try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
        }
    }
}
