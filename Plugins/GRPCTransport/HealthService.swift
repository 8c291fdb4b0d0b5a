import GRPCCore
import JacoKernel

/// `grpc.health.v1.Health`: SERVING while the store answers and the cache is loaded (an
/// uninitialized cluster is serving: `InitCluster` must be reachable), for the server as a
/// whole ("") and each `jaco.v1` service; NOT_FOUND (Check) or SERVICE_UNKNOWN (Watch) for other
/// names. No token needed, as probes send none.
struct HealthService: Grpc_Health_V1_Health.ServiceProtocol {
    let kernel: Kernel
    let shutdown: ShutdownSignal

    /// The names a probe may ask about.
    static let services: Set<String> = [
        "", "jaco.v1.ClusterService", "jaco.v1.TokenService", "jaco.v1.AuditService", "jaco.v1.DeployService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
    ]

    /// How often Watch looks for a change.
    static let watchInterval: Duration = .seconds(1)

    func check(request: ServerRequest<Grpc_Health_V1_HealthCheckRequest>, context: ServerContext) async throws -> ServerResponse<Grpc_Health_V1_HealthCheckResponse> {
        guard Self.services.contains(request.message.service) else {
            throw RPCError(code: .notFound, message: "unknown service '\(request.message.service)' (valid: \(Self.services.sorted().filter { !$0.isEmpty }.joined(separator: ", ")), or \"\" for the server)")
        }
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = await status()
        return ServerResponse(message: response)
    }

    func watch(request: ServerRequest<Grpc_Health_V1_HealthCheckRequest>, context: ServerContext) async throws -> StreamingServerResponse<Grpc_Health_V1_HealthCheckResponse> {
        let known = Self.services.contains(request.message.service)
        return StreamingServerResponse { [shutdown] writer in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus? = nil
                    while !Task.isCancelled {
                        let now = known ? await status() : .serviceUnknown
                        if now != last {
                            var response = Grpc_Health_V1_HealthCheckResponse()
                            response.status = now
                            try await writer.write(response)
                            last = now
                        }
                        try await Task.sleep(for: Self.watchInterval)
                    }
                }
                group.addTask { await shutdown.wait() }  // a draining daemon ends the watch
                _ = try await group.next()
                group.cancelAll()
            }
            return [:]
        }
    }

    private func status() async -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        let readiness = await kernel.readiness()
        return readiness.storeReachable && readiness.cacheLoaded ? .serving : .notServing
    }
}
