import Foundation
import JacoKernel

/// A parsed config file: its sections, ready for the plugin factories.
public struct JacoConfig: Sendable {
    /// Where it came from (a path, or `<built-in>`).
    public let source: String
    /// The top-level tables by name.
    public let sections: [String: [String: ConfigValue]]
    /// The `[[listeners]]` entries, in order.
    public let listeners: [[String: ConfigValue]]

    /// The sections this build understands.
    public static let knownSections = ["storage", "hashing", "admission", "tokens", "tls", "listeners", "client"]

    /// The config used when none is given: SQLite under the data directory, SHA-256.
    public static let embeddedDefault = """
        # Jaco's built-in default: SQLite in the data directory, SHA-256 digests, gRPC over TLS on
        # a loopback port, a unix socket in the data directory, Consul's ACL HTTP API over
        # HTTPS on a loopback port, and metrics and health over plain HTTP on loopback.
        [storage]
        engine = "sqlite"
        path = "jaco.sqlite"

        [hashing]
        algorithm = "sha256"

        [[listeners]]
        kind = "grpc"
        address = "127.0.0.1:7400"

        [[listeners]]
        kind = "grpc-unix"
        path = "jaco.sock"

        [[listeners]]
        kind = "consul-http"
        address = "127.0.0.1:8501"

        [[listeners]]
        kind = "metrics"
        address = "127.0.0.1:9400"
        """

    /// Reads and parses the file at `path`; the error names the path when it cannot be read.
    public static func load(path: String) throws(JacoError) -> JacoConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw JacoError(.configInvalid, "cannot read the config file '\(path)': \(Self.reason(error))")
        }
        return try parse(text, source: path)
    }

    /// Parses config text; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws(JacoError) -> JacoConfig {
        let values = try TOMLConfigParser.parse(text, source: source)
        var sections: [String: [String: ConfigValue]] = [:]
        var listeners: [[String: ConfigValue]] = []
        for key in values.keys.sorted() {
            guard knownSections.contains(key) else {
                throw JacoError(.configInvalid, "\(source): unknown section '[\(key)]' (valid: \(knownSections.joined(separator: ", ")))")
            }
            if key == "listeners" {
                guard case .array(let entries) = values[key] else {
                    throw JacoError(.configInvalid, "\(source): 'listeners' must be written as [[listeners]] tables")
                }
                for entry in entries {
                    guard case .table(let table) = entry else {
                        throw JacoError(.configInvalid, "\(source): each [[listeners]] entry must be a table")
                    }
                    listeners.append(table)
                }
                continue
            }
            guard case .table(let table) = values[key] else {
                throw JacoError(.configInvalid, "\(source): '\(key)' must be a table ([\(key)]), not \(values[key]!.typeName)")
            }
            sections[key] = table
        }
        return JacoConfig(source: source, sections: sections, listeners: listeners)
    }

    /// A copy with the listeners replaced.
    public func replacingListeners(_ listeners: [[String: ConfigValue]]) -> JacoConfig {
        JacoConfig(source: source, sections: sections, listeners: listeners)
    }

    /// The same config with `[storage] key` set to `value` (a command-line override).
    public func replacingStorageValue(_ key: String, with value: ConfigValue) -> JacoConfig {
        var sections = self.sections
        sections["storage", default: [:]][key] = value
        return JacoConfig(source: source, sections: sections, listeners: listeners)
    }

    /// The `[[listeners]]` entries as sections named `listeners[n]`.
    public var listenerSections: [ConfigSection] {
        listeners.enumerated().map { ConfigSection(name: "listeners[\($0.offset)]", values: $0.element, source: source) }
    }

    /// The named section (empty when the file does not have it).
    public func section(_ name: String) -> ConfigSection {
        ConfigSection(name: name, values: sections[name] ?? [:], source: source)
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
            let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue))
        }
        switch nsError.code {
        case NSFileReadNoSuchFileError: return "no such file"
        case NSFileReadNoPermissionError: return "permission denied"
        default: return nsError.localizedDescription
        }
    }
}
