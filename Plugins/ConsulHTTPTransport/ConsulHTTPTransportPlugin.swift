import Foundation
import JacoKernel
import JacoNIOSSL

/// The HTTP listeners on Hummingbird: `consul-http` (Consul's ACL HTTP API over the kernel's
/// token store) and `metrics` (Prometheus metrics, health and readiness).
public enum ConsulHTTPTransportPlugin {
    /// Where the metrics listener listens when its entry names no address.
    public static let defaultMetricsAddress = "127.0.0.1:9400"

    /// `[[listeners]] kind = "consul-http"`: `address` (`host:port`, required), `plaintext`
    /// (default false; allowed only on a loopback address), `verify_incoming` / `client_ca`
    /// (mutual TLS), `max_blocking_queries` (2048; past it a blocking query answers at once), the
    /// connection limits (``ConnectionLimits``) and the failed-authentication limits
    /// (``AuthThrottle/Limits``). HTTPS uses the cluster's TLS material and `[tls]` settings.
    public static let factories: [ListenerFactory] = [
        ListenerFactory(
            kind: "consul-http", keys: ["address", "plaintext", "max_blocking_queries"] + ConfigSection.mutualTLSKeys + ConnectionLimits.keys + AuthThrottle.Limits.keys,
            address: { section, _ in try .tcp(section, kind: "consul-http", example: "127.0.0.1:8501") }
        ) { section, context in
            let (host, port) = try section.listenAddress(kind: "consul-http", example: "127.0.0.1:8501")
            let address = HostPort.format(host: host, port: port)
            let plaintext = try section.bool("plaintext", default: false)
            if plaintext, !HostPort.isLoopback(host) {
                throw section.error("plain HTTP is refused on '\(address)': it is allowed only on a loopback address (127.0.0.1, ::1, localhost)")
            }
            guard plaintext || context.tls != nil else {
                throw section.error("the consul-http listener on '\(address)' needs TLS material, and none was set up")
            }
            let tls = try section.listenerTLS(context.tls, serves: !plaintext, relativeTo: context.dataDirectory)
            return ConsulHTTPListener(
                host: host, port: port, tls: tls, limits: try ConnectionLimits(section), authFailureLimits: try AuthThrottle.Limits(section),
                maxBlockingQueries: try section.integer("max_blocking_queries", default: 2048, range: 0...1_000_000))
        },
        /// `[[listeners]] kind = "metrics"`: `address` (default `127.0.0.1:9400`), `tls` (default
        /// false: plain HTTP, allowed only on a loopback address; true: HTTPS with the cluster's
        /// TLS material; `verify_incoming` / `client_ca` then demand client certificates), the connection
        /// limits (``ConnectionLimits``). Serves `/metrics`, `/v1/jaco/health` and `/v1/jaco/ready`.
        ListenerFactory(
            kind: "metrics", keys: ["address", "tls"] + ConfigSection.mutualTLSKeys + ConnectionLimits.keys,
            address: { section, _ in try .tcp(section, kind: "metrics", example: defaultMetricsAddress, default: defaultMetricsAddress) }
        ) { section, context in
            let (host, port) = try section.listenAddress(kind: "metrics", example: defaultMetricsAddress, default: defaultMetricsAddress)
            let address = HostPort.format(host: host, port: port)
            let tls = try section.bool("tls", default: false)
            if !tls, !HostPort.isLoopback(host) {
                throw section.error("plain-HTTP metrics are refused on '\(address)': use a loopback address (127.0.0.1, ::1, localhost), or set tls = true")
            }
            guard !tls || context.tls != nil else {
                throw section.error("the metrics listener on '\(address)' has tls = true, and no TLS material was set up")
            }
            guard let exporter = context.metrics else {
                throw section.error("the metrics listener on '\(address)' needs a metrics exporter, and this daemon has none")
            }
            let settings = try section.listenerTLS(context.tls, serves: tls, relativeTo: context.dataDirectory)
            return MetricsListener(host: host, port: port, tls: settings, exporter: exporter, limits: try ConnectionLimits(section))
        },
    ]
}
