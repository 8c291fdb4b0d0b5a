import Foundation

/// The transport seam: serves the kernel to the outside (gRPC over TLS, a unix socket, the
/// Consul HTTP API) until cancelled. TLS wraps a transport; it is not a flag inside each one.
public protocol KernelTransport: Sendable {
    /// Where it listens, for logs, e.g. `grpc+tls://127.0.0.1:7400`.
    var endpointDescription: String { get }
    /// Serves `kernel` until the task is cancelled, then drains in-flight calls. `onListening`
    /// is called once the listener is bound, with its actual address (a port of 0 resolved).
    func serve(_ kernel: Kernel, onListening: @escaping @Sendable (String) -> Void) async throws
}

/// The files a TLS listener serves with.
public struct TLSFiles: Sendable, Equatable {
    /// The cluster CA certificate (PEM): what clients pin.
    public var caCertificate: URL
    /// The server certificate chain (PEM).
    public var certificateChain: URL
    /// The server's private key (PEM).
    public var privateKey: URL

    /// Creates a set of paths.
    public init(caCertificate: URL, certificateChain: URL, privateKey: URL) {
        self.caCertificate = caCertificate
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// Facts about the running daemon that transports report (e.g. in a status call).
public struct DaemonInfo: Sendable {
    /// The storage engine's config name.
    public var storageEngine: String
    /// The hashing algorithm's config name.
    public var hashingAlgorithm: String
    /// Jaco's version.
    public var version: String

    /// Creates the info.
    public init(storageEngine: String, hashingAlgorithm: String, version: String) {
        self.storageEngine = storageEngine
        self.hashingAlgorithm = hashingAlgorithm
        self.version = version
    }
}
