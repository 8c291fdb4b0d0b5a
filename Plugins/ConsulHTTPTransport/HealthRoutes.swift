import Hummingbird
import JacoKernel
import NIOCore

/// `GET /v1/jaco/health` (liveness: 200 while the daemon answers) and `GET /v1/jaco/ready`
/// (200 when initialized with the store reachable and the cache loaded, else 503 with the
/// reasons), without a token, on the Consul and metrics listeners alike.
struct HealthRoutes: Sendable {
    let kernel: Kernel

    /// The paths, for docs and tests.
    static let healthPath = "/v1/jaco/health"
    static let readyPath = "/v1/jaco/ready"

    func register(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(stringLiteral: Self.healthPath)) { _, _ in
            Self.json(.ok, Readiness.aliveJSON)
        }
        router.get(RouterPath(stringLiteral: Self.readyPath)) { _, _ in
            let readiness = await kernel.readiness()
            return Self.json(readiness.ready ? .ok : .serviceUnavailable, readiness.json)
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
