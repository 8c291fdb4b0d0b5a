import Foundation
import Hummingbird
import JacoKernel
import JacoNIOSSL
import NIOCore

/// The `metrics` listener: `GET /metrics` in the exporter's format (Prometheus text), plus the
/// health and readiness routes, without a token. Plain HTTP on loopback by default; HTTPS
/// with the cluster's TLS material when configured.
struct MetricsListener: KernelTransport {
    let host: String
    let port: Int
    let tls: TLSSettings?
    let exporter: any MetricsExporter
    /// The connection cap, TLS handshake deadline and idle timeout.
    var limits = ConnectionLimits()

    var endpointDescription: String { "metrics+\(tls == nil ? "http" : "https")://\(HostPort.format(host: host, port: port))" }

    func serve(_ kernel: Kernel, onListening: @escaping @Sendable (String) -> Void) async throws {
        let router = Router()
        let contentType = exporter.contentType
        router.get("/metrics") { _, _ in
            await kernel.metrics.refresh(kernel)
            return Response(
                status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: exporter.render())))
        }
        HealthRoutes(kernel: kernel).register(on: router)
        try await HTTPServing.run(router, host: host, port: port, tls: tls, label: "jacod.metrics", drain: nil, limits: limits) { scheme, address in
            onListening("metrics+\(scheme)://\(address)")
        }
    }
}
