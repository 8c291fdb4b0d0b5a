import Foundation
import JacoKernel

/// The `consul-http` listener: Consul's ACL HTTP API over the kernel's token store.
public enum ConsulHTTPTransportPlugin {
    /// `[[listeners]] kind = "consul-http"`: `address` (`host:port`, required), `plaintext`
    /// (default false; allowed only on a loopback address). HTTPS uses the cluster's TLS material.
    public static let factories: [ListenerFactory] = [
        ListenerFactory(kind: "consul-http", keys: ["address", "plaintext"]) { section, context in
            guard let address = try section.optionalString("address") else {
                throw section.error("'address' is required for a consul-http listener, e.g. address = \"127.0.0.1:8501\"")
            }
            let (host, port) = try HostPort.parse(address, in: section)
            let plaintext = try section.bool("plaintext", default: false)
            if plaintext, !HostPort.isLoopback(host) {
                throw section.error("plain HTTP is refused on '\(address)': it is allowed only on a loopback address (127.0.0.1, ::1, localhost)")
            }
            guard plaintext || context.tls != nil else {
                throw section.error("the consul-http listener on '\(address)' needs TLS material, and none was set up")
            }
            return ConsulHTTPListener(host: host, port: port, tls: plaintext ? nil : context.tls)
        }
    ]
}
