/// The transport seam: serves the kernel to the outside (gRPC over TLS, a unix socket, the
/// Consul HTTP API) until cancelled. TLS wraps a transport; it is not a flag inside each one.
public protocol KernelTransport: Sendable {
    /// A short description for logs, e.g. `grpc+tls://127.0.0.1:8400`.
    var endpointDescription: String { get }
    /// Serves `kernel` until the task is cancelled, then drains in-flight calls.
    func serve(_ kernel: Kernel) async throws
}
