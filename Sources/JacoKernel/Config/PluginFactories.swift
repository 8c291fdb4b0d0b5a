import Foundation

/// What every plugin factory gets besides its own config section.
public struct PluginContext: Sendable {
    /// Where relative paths in the config point, and where engines keep their files by default.
    public var dataDirectory: URL
    /// The cluster's TLS material and `[tls]` settings, for listeners that serve TLS (set by the daemon).
    public var tls: TLSSettings?
    /// Facts about the daemon, for listeners to report.
    public var daemon: DaemonInfo?
    /// Where the daemon's metrics are recorded and rendered (for the metrics listener).
    public var metrics: (any MetricsExporter)?
    /// The daemon's certificates, for status calls and client certificates (set by the daemon).
    public var certificates: (any ClusterCertificates)?

    /// Creates a context.
    public init(
        dataDirectory: URL, tls: TLSSettings? = nil, daemon: DaemonInfo? = nil, metrics: (any MetricsExporter)? = nil,
        certificates: (any ClusterCertificates)? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.tls = tls
        self.daemon = daemon
        self.metrics = metrics
        self.certificates = certificates
    }
}

/// A storage plugin's factory: its config name, its keys, and how to open it.
public struct StorageEngineFactory: Sendable {
    /// The value of `[storage] engine` that selects it.
    public let name: String
    /// The keys it accepts in `[storage]` besides `engine`.
    public let keys: [String]
    /// Opens the engine from its section.
    public let open: @Sendable (ConfigSection, PluginContext) async throws -> any Storage

    /// Creates a factory.
    public init(name: String, keys: [String], open: @escaping @Sendable (ConfigSection, PluginContext) async throws -> any Storage) {
        self.name = name
        self.keys = keys
        self.open = open
    }
}

/// A hashing plugin's factory for one algorithm.
public struct HasherFactory: Sendable {
    /// The value of `[hashing] algorithm` that selects it.
    public let algorithm: String
    /// The value of `[hashing] provider` that selects it among implementations of the same
    /// algorithm (which give the same digests).
    public let provider: String
    /// The keys it accepts in `[hashing]` besides `algorithm` and `provider`.
    public let keys: [String]
    /// Makes the hasher from its section.
    public let make: @Sendable (ConfigSection, PluginContext) throws -> any SecretHasher

    /// Creates a factory.
    public init(
        algorithm: String, provider: String = "swift-crypto", keys: [String],
        make: @escaping @Sendable (ConfigSection, PluginContext) throws -> any SecretHasher
    ) {
        self.algorithm = algorithm
        self.provider = provider
        self.keys = keys
        self.make = make
    }
}

/// Where a listener will listen, known from its config before anything starts, so the daemon
/// can check every address before it creates files or opens the store.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// A TCP `host:port` (port 0: any free port).
    case tcp(host: String, port: Int)
    /// A unix socket file.
    case unixSocket(path: String)

    public var description: String {
        switch self {
        case .tcp(let host, let port): HostPort.format(host: host, port: port)
        case .unixSocket(let path): path
        }
    }
}

/// A transport plugin's factory for one listener kind (`[[listeners]] kind = "..."`).
public struct ListenerFactory: Sendable {
    /// The value of `kind` that selects it.
    public let kind: String
    /// The keys it accepts in its `[[listeners]]` entry besides `kind`.
    public let keys: [String]
    /// Where an entry will listen, from the entry alone (no TLS material needed yet).
    public let address: @Sendable (ConfigSection, PluginContext) throws -> ListenAddress
    /// Makes the listener from its entry.
    public let make: @Sendable (ConfigSection, PluginContext) throws -> any KernelTransport

    /// Creates a factory.
    public init(
        kind: String, keys: [String], address: @escaping @Sendable (ConfigSection, PluginContext) throws -> ListenAddress,
        make: @escaping @Sendable (ConfigSection, PluginContext) throws -> any KernelTransport
    ) {
        self.kind = kind
        self.keys = keys
        self.address = address
        self.make = make
    }
}
