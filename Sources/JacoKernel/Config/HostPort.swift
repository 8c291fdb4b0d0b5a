import Foundation

/// `host:port` parsing shared by listeners and clients.
public enum HostPort {
    /// Splits `host:port` (`[v6]:port` for IPv6); errors name the text.
    public static func parse(_ text: String, in section: ConfigSection? = nil) throws(JacoError) -> (host: String, port: Int) {
        func fail() -> JacoError {
            let detail = "'\(text)' is not host:port (e.g. 127.0.0.1:7400 or [::1]:7400)"
            return section?.error(detail) ?? JacoError(.validationFailed, detail)
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { throw fail() }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw fail() }
        return (host, port)
    }

    /// Whether `host` is a loopback address or name.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

extension HostPort {
    /// `host:port`, with brackets around an IPv6 host.
    public static func format(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension ConfigSection {
    /// A listener entry's `address` as host and port; `fallback` when absent, and when there is
    /// none an error naming the listener kind and an example (e.g. `127.0.0.1:7400`).
    public func listenAddress(kind: String, example: String, default fallback: String? = nil) throws(JacoError) -> (host: String, port: Int) {
        guard let address = try optionalString("address") ?? fallback else {
            throw error("'address' is required for a \(kind) listener, e.g. address = \"\(example)\"")
        }
        return try HostPort.parse(address, in: self)
    }
}

extension ListenAddress {
    /// A TCP listener entry's address (see ``ConfigSection/listenAddress(kind:example:default:)``).
    public static func tcp(_ section: ConfigSection, kind: String, example: String, default fallback: String? = nil) throws(JacoError) -> ListenAddress {
        let (host, port) = try section.listenAddress(kind: kind, example: example, default: fallback)
        return .tcp(host: host, port: port)
    }
}
