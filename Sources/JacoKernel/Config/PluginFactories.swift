import Foundation

/// What every plugin factory gets besides its own config section.
public struct PluginContext: Sendable {
    /// Where relative paths in the config point, and where engines keep their files by default.
    public var dataDirectory: URL
    /// The cluster's TLS material, for listeners that serve TLS (set by the daemon).
    public var tls: TLSFiles?
    /// Facts about the daemon, for listeners to report.
    public var daemon: DaemonInfo?

    /// Creates a context.
    public init(dataDirectory: URL, tls: TLSFiles? = nil, daemon: DaemonInfo? = nil) {
        self.dataDirectory = dataDirectory
        self.tls = tls
        self.daemon = daemon
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
    /// The keys it accepts in `[hashing]` besides `algorithm`.
    public let keys: [String]
    /// Makes the hasher from its section.
    public let make: @Sendable (ConfigSection, PluginContext) throws -> any SecretHasher

    /// Creates a factory.
    public init(algorithm: String, keys: [String], make: @escaping @Sendable (ConfigSection, PluginContext) throws -> any SecretHasher) {
        self.algorithm = algorithm
        self.keys = keys
        self.make = make
    }
}

/// A transport plugin's factory for one listener kind (`[[listeners]] kind = "..."`).
public struct ListenerFactory: Sendable {
    /// The value of `kind` that selects it.
    public let kind: String
    /// The keys it accepts in its `[[listeners]]` entry besides `kind`.
    public let keys: [String]
    /// Makes the listener from its entry.
    public let make: @Sendable (ConfigSection, PluginContext) throws -> any KernelTransport

    /// Creates a factory.
    public init(kind: String, keys: [String], make: @escaping @Sendable (ConfigSection, PluginContext) throws -> any KernelTransport) {
        self.kind = kind
        self.keys = keys
        self.make = make
    }
}
