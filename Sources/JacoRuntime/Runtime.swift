import Foundation
import JacoKernel
import OpenSSLHasher
import PrometheusMetrics

/// Turns a config into running plugin instances and a kernel. Daemon, CLI and tools share it.
public enum Runtime {
    /// Opens the storage engine that `[storage]` selects, after validating its keys.
    public static func openStorage(_ config: JacoConfig, dataDirectory: URL) async throws -> any Storage {
        let section = config.section("storage")
        let name = try section.string("engine", default: PluginRegistry.defaultEngine)
        guard let factory = PluginRegistry.storageEngines.first(where: { $0.name == name }) else {
            throw section.error("unknown storage engine '\(name)' (valid: \(PluginRegistry.storageEngines.map(\.name).joined(separator: ", ")))")
        }
        try section.rejectUnknownKeys(allowed: ["engine", allowSharedPermissionsKey] + factory.keys)
        return try await factory.open(section, PluginContext(dataDirectory: dataDirectory))
    }

    /// `[storage] allow_shared_permissions`: let jacod run on a data directory, or with a private
    /// key, that other users can read (default false: refused).
    public static let allowSharedPermissionsKey = "allow_shared_permissions"

    /// Makes the hasher that `[hashing]` selects, after validating its keys.
    public static func makeHasher(_ config: JacoConfig, dataDirectory: URL) throws -> any SecretHasher {
        let section = config.section("hashing")
        let name = try section.string("algorithm", default: PluginRegistry.defaultAlgorithm)
        let provider = try section.string("provider", default: PluginRegistry.defaultHashingProvider)
        let forAlgorithm = PluginRegistry.hashers.filter { $0.algorithm == name }
        guard !forAlgorithm.isEmpty else {
            var seen = Set<String>()
            let names = PluginRegistry.hashers.map(\.algorithm).filter { seen.insert($0).inserted }
            throw section.error("unknown hashing algorithm '\(name)' (valid: \(names.joined(separator: ", ")))")
        }
        guard let factory = forAlgorithm.first(where: { $0.provider == provider }) else {
            throw section.error("hashing provider '\(provider)' does not offer '\(name)' (providers of '\(name)': \(forAlgorithm.map(\.provider).joined(separator: ", ")))")
        }
        try section.rejectUnknownKeys(allowed: ["algorithm", "provider"] + factory.keys)
        return try factory.make(section, PluginContext(dataDirectory: dataDirectory))
    }

    /// What computes the digests, for the start-up log: `sha256 via openssl (OpenSSL 3.0.19 …,
    /// provider default)` or `sha256 via swift-crypto`.
    public static func hashingDescription(_ config: JacoConfig) throws -> String {
        let section = config.section("hashing")
        let algorithm = try section.string("algorithm", default: PluginRegistry.defaultAlgorithm)
        let provider = try section.string("provider", default: PluginRegistry.defaultHashingProvider)
        guard provider == OpenSSLHasherPlugin.provider else { return "\(algorithm) via \(provider)" }
        return "\(algorithm) via openssl (\(OpenSSLHasherPlugin.version), provider \(OpenSSLHasherPlugin.sha256Provider ?? "unknown"))"
    }

    /// The default (unkeyed SHA-256) hasher, for tools that only hash content, e.g. to check
    /// a snapshot file's checksum.
    public static func plainHasher() throws -> any SecretHasher {
        try makeHasher(JacoConfig.parse("", source: "<built-in>"), dataDirectory: URL(fileURLWithPath: "."))
    }

    /// The admission chain `[admission] policies` lists (default: `["privileged"]`); an
    /// unknown policy name is a config error naming it.
    public static func makeAdmission(_ config: JacoConfig) throws -> AdmissionChain {
        let section = config.section("admission")
        try section.rejectUnknownKeys(allowed: ["policies"])
        var names = PluginRegistry.defaultAdmissionPolicies
        if let value = section.values["policies"] {
            guard case .array(let items) = value else { throw section.error("'policies' must be a list of policy names, e.g. [\"privileged\"]") }
            names = try items.map { item in
                guard case .string(let name) = item else { throw section.error("'policies' must be a list of policy names") }
                return name
            }
        }
        let valid = PluginRegistry.admissionPolicies.keys.sorted().joined(separator: ", ")
        return AdmissionChain(try names.map { name in
            guard let make = PluginRegistry.admissionPolicies[name] else {
                throw section.error("unknown admission policy '\(name)' (valid: \(valid))")
            }
            return make()
        })
    }

    /// Makes every `[[listeners]]` entry's transport, after validating its keys.
    public static func makeListeners(_ config: JacoConfig, context: PluginContext) throws -> [any KernelTransport] {
        try config.listenerSections.map { section in try listenerFactory(for: section).make(section, context) }
    }

    /// Each `[[listeners]]` entry's kind and address, from the config alone (validated, nothing
    /// created), so that a daemon can check them before it starts anything.
    public static func listenAddresses(_ config: JacoConfig, dataDirectory: URL) throws -> [(kind: String, address: ListenAddress)] {
        try config.listenerSections.map { section in
            let factory = try listenerFactory(for: section)
            return (factory.kind, try factory.address(section, PluginContext(dataDirectory: dataDirectory)))
        }
    }

    private static func listenerFactory(for section: ConfigSection) throws(JacoError) -> ListenerFactory {
        let kind = try section.string("kind", default: "")
        guard let factory = PluginRegistry.listeners.first(where: { $0.kind == kind }) else {
            throw section.error(kind.isEmpty
                ? "'kind' is required (valid: \(PluginRegistry.listeners.map(\.kind).joined(separator: ", ")))"
                : "unknown listener kind '\(kind)' (valid: \(PluginRegistry.listeners.map(\.kind).joined(separator: ", ")))")
        }
        try section.rejectUnknownKeys(allowed: ["kind"] + factory.keys)
        return factory
    }

    /// The daemon's metrics backend (Prometheus text), made once per process.
    public static func makeMetricsExporter() -> any MetricsExporter { PrometheusExporter() }

    /// The ACL limits: Consul's, except that `JACO_TEST_MIN_EXPIRATION_TTL` (seconds) lowers
    /// the shortest token TTL, for tests only.
    public static func aclSettings(environment: [String: String] = ProcessInfo.processInfo.environment) -> ACLSettings {
        guard let text = environment["JACO_TEST_MIN_EXPIRATION_TTL"], let seconds = TimeInterval(text), seconds > 0 else { return ACLSettings() }
        return ACLSettings(minExpirationTTL: seconds)
    }

    /// `[tokens]`: `max_ttl` (the longest `jaco token issue --ttl`; default none) and
    /// `last_used_flush` (how often last-used times are written; default `"1m"`, 1s to 1h),
    /// `failed_auth_audit` (how often failed authentications are audited; `"1m"`, 1s to 1h),
    /// `max_login_tokens_per_method` (live tokens one auth method's logins may hold; 10000).
    /// `JACO_TEST_MIN_EXPIRATION_TTL` lowers the shortest TTL, for tests only.
    public static func tokenSettings(_ config: JacoConfig, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TokenSettings {
        let section = config.section("tokens")
        try section.rejectUnknownKeys(allowed: ["max_ttl", "last_used_flush", "failed_auth_audit", "max_login_tokens_per_method"])
        var settings = TokenSettings()
        settings.maxLoginTokensPerMethod = try section.integer("max_login_tokens_per_method", default: settings.maxLoginTokensPerMethod, range: 1...10_000_000)
        settings.minTTL = aclSettings(environment: environment).minExpirationTTL
        if let text = try section.optionalString("max_ttl") {
            guard let seconds = DurationText.parse(text), seconds >= settings.minTTL else {
                throw section.error("'max_ttl' is '\(text)'; write a duration of at least \(DurationText.format(settings.minTTL)), e.g. \"90d\" or \"720h\"")
            }
            settings.maxTTL = seconds
        }
        if let text = try section.optionalString("last_used_flush") {
            guard let seconds = DurationText.parse(text), (1...3600).contains(seconds) else {
                throw section.error("'last_used_flush' is '\(text)'; write a duration from 1s to 1h, e.g. \"1m\"")
            }
            settings.lastUsedFlush = .milliseconds(Int64(seconds * 1000))
        }
        if let text = try section.optionalString("failed_auth_audit") {
            guard let seconds = DurationText.parse(text), (1...3600).contains(seconds) else {
                throw section.error("'failed_auth_audit' is '\(EchoedInput.quote(text))'; write a duration from 1s to 1h, e.g. \"1m\"")
            }
            settings.failedAuthAudit = .milliseconds(Int64(seconds * 1000))
        }
        return settings
    }

    /// The storage engine's and hasher's config names, for status reports.
    public static func daemonInfo(_ config: JacoConfig) throws -> DaemonInfo {
        DaemonInfo(
            storageEngine: try config.section("storage").string("engine", default: PluginRegistry.defaultEngine),
            hashingAlgorithm: try config.section("hashing").string("algorithm", default: PluginRegistry.defaultAlgorithm),
            version: Jaco.version)
    }

    /// Validates the whole config and starts a kernel on it. The hasher is made first, so a
    /// config error there does not leave a store open.
    /// Metrics are recorded through `metrics` (none when nil).
    public static func startKernel(_ config: JacoConfig, dataDirectory: URL, metrics: (any MetricsExporter)? = nil) async throws -> Kernel {
        let hasher = try makeHasher(config, dataDirectory: dataDirectory)
        let admission = try makeAdmission(config)
        let tokens = try tokenSettings(config)
        let kernelMetrics = try metrics.map { KernelMetrics(factory: $0.factory, engine: try daemonInfo(config).storageEngine) } ?? .discarded
        let storage = try await openStorage(config, dataDirectory: dataDirectory)
        do {
            return try await Kernel.start(
                storage: storage, hasher: hasher, admission: admission, acl: aclSettings(), tokens: tokens, metrics: kernelMetrics,
                authMethodTypes: PluginRegistry.authMethodTypes())
        } catch {
            try? await storage.close()
            throw error
        }
    }
}
