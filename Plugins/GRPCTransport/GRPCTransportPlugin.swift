import Foundation
import JacoKernel
import JacoNIOSSL

/// The `grpc` (TCP, TLS by default) and `grpc-unix` (unix socket, caller `local`) listeners.
public enum GRPCTransportPlugin {
    /// The default unix socket path.
    public static let defaultSocketPath = "/var/run/jaco/jaco.sock"

    /// Factories for both listener kinds.
    ///
    /// `[[listeners]] kind = "grpc"`: `address` (`host:port`, required), `plaintext` (default
    /// false; allowed only on a loopback address), `verify_incoming` / `client_ca` (mutual TLS),
    /// `max_connections` (4096), `handshake_timeout` ("10s"), `idle_timeout` ("5m") (``ConnectionLimits``),
    /// `failed_auth_burst` (20), `failed_auth_per_second` (1), `listener_failed_auth_burst`
    /// (1000), `listener_failed_auth_per_second` (100) (``AuthThrottle/Limits``).
    /// TLS uses the cluster's material and `[tls]` settings.
    /// `[[listeners]] kind = "grpc-unix"`: `path` (default `/var/run/jaco/jaco.sock`, relative to
    /// the data directory), `mode` (octal string, default `"0660"`).
    public static let factories: [ListenerFactory] = [
        ListenerFactory(
            kind: "grpc", keys: ["address", "plaintext"] + ConfigSection.mutualTLSKeys + ConnectionLimits.keys + AuthThrottle.Limits.keys,
            address: { section, _ in try .tcp(section, kind: "grpc", example: "127.0.0.1:7400") }
        ) { section, context in
            let (host, port) = try section.listenAddress(kind: "grpc", example: "127.0.0.1:7400")
            let address = HostPort.format(host: host, port: port)
            let plaintext = try section.bool("plaintext", default: false)
            if plaintext, !HostPort.isLoopback(host) {
                throw section.error("plaintext gRPC is refused on '\(address)': it is allowed only on a loopback address (127.0.0.1, ::1, localhost)")
            }
            guard plaintext || context.tls != nil else {
                throw section.error("the grpc listener on '\(address)' needs TLS material, and none was set up")
            }
            let tls = try section.listenerTLS(context.tls, serves: !plaintext, relativeTo: context.dataDirectory)
            var listener = GRPCListener(endpoint: .tcp(host: host, port: port, tls: tls), info: context.daemon ?? .unknown, certificates: context.certificates)
            listener.limits = try ConnectionLimits(section)
            listener.authFailureLimits = try AuthThrottle.Limits(section)
            return listener
        },
        ListenerFactory(
            kind: "grpc-unix", keys: ["path", "mode"],
            address: { section, context in .unixSocket(path: try socketPath(section, context)) }
        ) { section, context in
            let path = try socketPath(section, context)
            let modeText = try section.string("mode", default: "0660")
            guard let mode = Int(modeText, radix: 8), (0...0o777).contains(mode) else {
                throw section.error("'mode' is '\(modeText)'; write an octal file mode such as \"0660\"")
            }
            return GRPCListener(endpoint: .unixSocket(path: path, mode: mode), info: context.daemon ?? .unknown, certificates: context.certificates)
        },
    ]
}

extension GRPCTransportPlugin {
    private static func socketPath(_ section: ConfigSection, _ context: PluginContext) throws(JacoError) -> String {
        try section.path("path", default: defaultSocketPath, relativeTo: context.dataDirectory).path
    }

    /// A TCP listener built in code, not from config. With `authenticate: false` every caller
    /// acts as `local` without a token, as on the unix socket: for benchmarks that measure what
    /// authentication costs. Never expose such a listener.
    public static func tcpListener(host: String, port: Int, tls: TLSSettings, authenticate: Bool) -> any KernelTransport {
        GRPCListener(endpoint: .tcp(host: host, port: port, tls: tls), info: .unknown, authenticates: authenticate)
    }
}

extension DaemonInfo {
    static let unknown = DaemonInfo(storageEngine: "unknown", hashingAlgorithm: "unknown", version: "unknown")
}
