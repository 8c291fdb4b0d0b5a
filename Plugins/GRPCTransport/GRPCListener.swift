import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import JacoKernel
import JacoNIOSSL

/// A gRPC listener serving `jaco.v1`: on TCP with TLS (or plaintext on loopback when the config
/// allows it), or on a unix socket whose callers are the local identity.
struct GRPCListener: KernelTransport {
    /// Where and how to listen.
    enum Endpoint: Sendable {
        case tcp(host: String, port: Int, tls: TLSSettings?)
        case unixSocket(path: String, mode: Int)
    }

    let endpoint: Endpoint
    let info: DaemonInfo
    /// The daemon's certificates, for status and client certificates.
    var certificates: (any ClusterCertificates)? = nil
    /// False only for benchmark listeners built in code: TCP callers then act as `local`.
    var authenticates = true
    /// A TCP listener's connection cap, handshake deadline and idle timeout.
    var limits = ConnectionLimits()
    /// A TCP listener's limits on failed authentications per address and in all.
    var authFailureLimits = AuthThrottle.Limits()

    var endpointDescription: String {
        switch endpoint {
        case .tcp(let host, let port, let tls): "grpc\(tls == nil ? "" : "+tls")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .unixSocket(let path, _): "grpc+unix://\(path)"
        }
    }

    func serve(_ kernel: Kernel, onListening: @escaping @Sendable (String) -> Void) async throws {
        let factory: GRPCListenerFactory
        let mode: CallerResolver.Mode
        switch endpoint {
        case .tcp(let host, let port, let tls):
            let configuration = try tls.map { try NIOTLSConfiguration.server($0, applicationProtocols: GRPCListenerFactory.applicationProtocols) }
            factory = GRPCListenerFactory(address: .tcp(host: host, port: port), tls: configuration, limits: limits)
            mode = authenticates ? .bearerToken : .localSocket
        case .unixSocket(let path, _):
            try Self.prepareSocketPath(path)
            factory = GRPCListenerFactory(address: .unixSocket(path: path), tls: nil)
            mode = .localSocket
        }
        var config = Self.transportConfig
        if case .tcp = endpoint { config.connection.maxIdleTime = limits.idleTimeout }
        let transport = HTTP2ServerTransport.Custom(listenerFactory: factory, config: config)
        let throttle: AuthThrottle? = mode == .bearerToken ? kernel.authThrottle(listener: endpointDescription, limits: authFailureLimits) : nil
        let caller = CallerResolver(kernel: kernel, mode: mode, throttle: throttle)
        let shutdown = ShutdownSignal()
        let server = GRPCServer(transport: transport, services: [
            ClusterService(kernel: kernel, info: info, caller: caller, certificates: certificates),
            TokensService(kernel: kernel, caller: caller),
            AuditService(kernel: kernel, caller: caller, shutdown: shutdown),
            DeployService(kernel: kernel, caller: caller),
            HealthService(kernel: kernel, shutdown: shutdown),
            ReflectionService(),
        ], interceptors: [DenialCounter(metrics: kernel.metrics)])
        // The server runs in its own task, so that cancelling `serve` does not abort it: the
        // cancellation becomes a graceful shutdown that lets in-flight calls finish.
        let serving = Task { try await server.serve() }
        try await withTaskCancellationHandler {
            guard let address = await transport.listeningAddress else {
                try await serving.value  // surfaces the reason the server could not listen
                throw JacoError(.listenFailed, "the gRPC listener on \(endpointDescription) stopped before it was listening")
            }
            if case .unixSocket(let path, let socketMode) = endpoint {
                chmod(path, mode_t(socketMode))
            }
            var tls = false
            if case .tcp(_, _, let files) = endpoint { tls = files != nil }
            onListening(Self.describe(address, tls: tls))
            try await serving.value
        } onCancel: {
            shutdown.fire()
            server.beginGracefulShutdown()
        }
    }

    private static func describe(_ address: GRPCNIOTransportCore.SocketAddress, tls: Bool) -> String {
        if let v4 = address.ipv4 { return "grpc\(tls ? "+tls" : "")://\(v4.host):\(v4.port)" }
        if let v6 = address.ipv6 { return "grpc\(tls ? "+tls" : "")://[\(v6.host)]:\(v6.port)" }
        if let unix = address.unixDomainSocket { return "grpc+unix://\(unix.path)" }
        return "\(address)"
    }

    /// Answers are flushed at once: flush coalescing (grpc-swift's default) holds each write up
    /// to 100 µs for company, which on a quiet daemon only adds latency to every call.
    static let transportConfig: HTTP2ServerTransport.Custom<GRPCListenerFactory>.Config = {
        var config = HTTP2ServerTransport.Custom<GRPCListenerFactory>.Config.defaults
        config.connection.flushCoalescing = nil
        return config
    }()

    /// Creates the socket's directory and removes a stale socket file left by a previous run.
    private static func prepareSocketPath(_ path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw JacoError(.configInvalid, "cannot create the directory for the unix socket '\(path)': \(error.localizedDescription)")
        }
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path) {
            guard attributes[.type] as? FileAttributeType == .typeSocket else {
                throw JacoError(.configInvalid, "'\(path)' exists and is not a socket; choose another socket path")
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

