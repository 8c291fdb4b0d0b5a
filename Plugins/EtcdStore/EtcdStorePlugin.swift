import Foundation
import JacoKernel

/// The `etcd` storage engine's factory.
public enum EtcdStorePlugin {
    /// The endpoints of a local three-member cluster as etcd's own Procfile starts it.
    public static let defaultEndpoints = ["http://127.0.0.1:2379", "http://127.0.0.1:22379", "http://127.0.0.1:32379"]

    /// `[storage] engine = "etcd"`: `endpoints` (list of `http(s)://host:port`), `prefix`
    /// (default `/jaco/`), `consistency` (`linearizable` | `serializable`), `timeout_ms`
    /// (per call, default 5000), `username` and `password_file` (etcd auth), `ca_cert`,
    /// `cert`, `key` (TLS to etcd), `down_policy` (`deny` | `extend-cache`).
    public static let factory = StorageEngineFactory(
        name: "etcd",
        keys: ["endpoints", "prefix", "consistency", "timeout_ms", "username", "password_file", "ca_cert", "cert", "key", "down_policy"]
    ) { section, context in
        let endpointTexts: [String]
        switch section.values["endpoints"] {
        case nil: endpointTexts = defaultEndpoints
        case .array(let items)?:
            endpointTexts = try items.map { item in
                guard case .string(let text) = item else { throw section.error("'endpoints' must be a list of URLs such as \"http://127.0.0.1:2379\"") }
                return text
            }
        case .string(let text)?: endpointTexts = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        default: throw section.error("'endpoints' must be a list of URLs such as \"http://127.0.0.1:2379\"")
        }
        guard !endpointTexts.isEmpty else { throw section.error("'endpoints' is empty; name at least one etcd client URL") }
        let endpoints = try endpointTexts.map { text in
            do { return try EtcdEndpoints.Endpoint.parse(text) } catch { throw section.error("endpoint '\(text)' is not a URL such as http://127.0.0.1:2379") }
        }
        var prefix = try section.string("prefix", default: "/jaco/")
        if !prefix.hasSuffix("/") { prefix += "/" }
        let consistencyText = try section.string("consistency", default: "linearizable")
        guard let consistency = EtcdStore.Consistency(rawValue: consistencyText) else {
            throw section.error("'consistency' is '\(consistencyText)' (valid: linearizable, serializable)")
        }
        let timeout = try section.integer("timeout_ms", default: 5000, range: 1...600_000)
        let downPolicy = try section.string("down_policy", default: "extend-cache")
        guard ["deny", "extend-cache"].contains(downPolicy) else {
            throw section.error("'down_policy' is '\(downPolicy)' (valid: deny, extend-cache)")
        }
        var credentials: (user: String, password: String)?
        if let user = try section.optionalString("username") {
            guard let passwordFile = try section.optionalString("password_file") else {
                throw section.error("'username' needs 'password_file', a file holding the etcd password")
            }
            let path = try section.path("password_file", default: passwordFile, relativeTo: context.dataDirectory).path
            guard let password = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw section.error("cannot read 'password_file' '\(path)'")
            }
            credentials = (user, password.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let tls = EtcdEndpoints.TLSSettings(
            caCertificate: try section.optionalString("ca_cert").map { try section.path("ca_cert", default: $0, relativeTo: context.dataDirectory).path },
            clientCertificate: try section.optionalString("cert").map { try section.path("cert", default: $0, relativeTo: context.dataDirectory).path },
            clientKey: try section.optionalString("key").map { try section.path("key", default: $0, relativeTo: context.dataDirectory).path })
        let connections = EtcdEndpoints(endpoints: endpoints, tls: tls, credentials: credentials, callTimeout: .milliseconds(timeout))
        let store = EtcdStore(endpoints: connections, prefix: prefix, consistency: consistency, denyWhenDown: downPolicy == "deny")
        // Fail at start, not at the first call, when no endpoint answers.
        do {
            _ = try await store.read { $0.index }
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }
}
