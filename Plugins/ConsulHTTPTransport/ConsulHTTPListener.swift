import Foundation
import Hummingbird
import JacoKernel
import JacoNIOSSL
import Synchronization

/// Serves the Consul-compatible ACL API over HTTPS (or plain HTTP on loopback when the config
/// allows it), on Hummingbird.
struct ConsulHTTPListener: KernelTransport {
    let host: String
    let port: Int
    /// nil: plain HTTP (loopback only, checked by the factory).
    let tls: TLSSettings?
    /// The connection cap, TLS handshake deadline and idle timeout.
    var limits = ConnectionLimits()
    /// The limits on failed authentications per address and in all.
    var authFailureLimits = AuthThrottle.Limits()
    /// Blocking queries that may wait at once; more answer at once.
    var maxBlockingQueries = 2048

    var endpointDescription: String { "\(tls == nil ? "http" : "https")://\(HostPort.format(host: host, port: port))" }

    func serve(_ kernel: Kernel, onListening: @escaping @Sendable (String) -> Void) async throws {
        let drain = ShutdownDrain()
        let bound = Mutex<String>(endpointDescription)
        let router = Router(context: ConsulRequestContext.self)
        let throttle = kernel.authThrottle(listener: endpointDescription, limits: authFailureLimits)
        ConsulAPI(
            kernel: kernel, drain: drain, throttle: throttle, blockingQueries: ConnectionGate(limit: maxBlockingQueries), leaderAddress: { bound.withLock { $0 } }).register(on: router)
        try await HTTPServing.run(router, host: host, port: port, tls: tls, label: "jacod.consul-http", drain: drain, limits: limits) { scheme, address in
            bound.withLock { $0 = address }
            onListening("\(scheme)://\(address)")
        }
    }
}
