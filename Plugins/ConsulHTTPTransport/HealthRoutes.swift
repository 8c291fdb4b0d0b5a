import Hummingbird
import JacoKernel
import NIOCore

/// `GET /v1/jaco/health` (liveness: 200 while the daemon answers) and `GET /v1/jaco/ready`
/// (200 when initialized with the store reachable and the cache loaded, else 503 with the
/// reasons), without a token, on the Consul and metrics listeners alike.
struct HealthRoutes: Sendable {
    let kernel: Kernel

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/v1/jaco/health") { _, _ in
            Self.json(.ok, Readiness.aliveJSON)
        }
        router.get("/v1/jaco/ready") { _, _ in
            let readiness = await kernel.readiness()
            return Self.json(readiness.ready ? .ok : .serviceUnavailable, readiness.json)
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
