import JacoKernel
import Yams

/// One service of a compose manifest.
struct ComposeService {
    let name: String
    let fields: [(key: String, value: Node)]

    func field(_ key: String) -> Node? { fields.first { $0.key == key }?.value }
}

/// Parses a compose manifest and checks its shape: a mapping with a `services:` mapping whose
/// entries are mappings of supported fields.
enum ComposeManifest {
    /// The service-level fields Jaco accepts; anything else is refused by name.
    static let supportedFields: [String] = [
        "build", "cap_add", "cap_drop", "command", "container_name", "depends_on", "deploy", "devices", "dns",
        "entrypoint", "env_file", "environment", "expose", "extra_hosts", "healthcheck", "hostname", "image",
        "init", "labels", "logging", "network_mode", "networks", "pid", "platform", "ports", "privileged",
        "profiles", "read_only", "restart", "secrets", "security_opt", "shm_size", "stop_grace_period",
        "stop_signal", "sysctls", "tmpfs", "tty", "ulimits", "user", "volumes", "working_dir",
    ].sorted()

    static func services(in manifest: [UInt8]) throws(JacoError) -> [ComposeService] {
        try ManifestPrescan.check(manifest)
        guard let text = String(validating: manifest, as: UTF8.self) else {
            throw invalid("the manifest is not UTF-8 text")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw invalid("the manifest is not valid YAML: \(Self.describe(error))")
        }
        guard let root, case .mapping(let top) = root else {
            throw invalid("the manifest must be a YAML mapping with a 'services:' key")
        }
        guard let servicesNode = top.first(where: { $0.key.string == "services" })?.value else {
            throw invalid("the manifest has no 'services:' key")
        }
        guard case .mapping(let servicesMap) = servicesNode else {
            throw invalid("'services' must be a mapping of service names to services")
        }
        guard !servicesMap.isEmpty else { throw invalid("'services' is empty; a manifest needs at least one service") }
        var services: [ComposeService] = []
        for (key, value) in servicesMap {
            guard let name = key.string, !name.isEmpty else { throw invalid("a service name must be a non-empty string") }
            guard case .mapping(let fieldsMap) = value else {
                throw invalid("service '\(name)' must be a mapping of fields")
            }
            var fields: [(String, Node)] = []
            for (fieldKey, fieldValue) in fieldsMap {
                let field = fieldKey.string ?? "\(fieldKey)"
                guard supportedFields.contains(field) else {
                    throw invalid("service '\(name)': unknown field '\(field)' (supported: \(supportedFields.joined(separator: ", ")))")
                }
                fields.append((field, fieldValue))
            }
            services.append(ComposeService(name: name, fields: fields))
        }
        return services
    }

    static func invalid(_ message: String) -> JacoError {
        JacoError(.validationFailed, message)
    }

    private static func describe(_ error: any Error) -> String {
        if let yaml = error as? YamlError { return "\(yaml)".split(separator: "\n").first.map(String.init) ?? "\(yaml)" }
        return "\(error)"
    }
}
