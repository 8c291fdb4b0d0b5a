import GRPCCore
import JacoKernel

/// `jaco.v1.Cluster`: bootstrap and status. Both are served before the cluster is initialized
/// and need no token (as Consul's bootstrap): whoever reaches a fresh daemon first initializes it.
struct ClusterService: Jaco_V1_Cluster.ServiceProtocol {
    let kernel: Kernel
    let info: DaemonInfo
    let caller: CallerResolver

    func `init`(request: ServerRequest<Jaco_V1_InitRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_InitResponse> {
        try await handlingErrors {
            let requester = caller.mode == .localSocket ? BuiltIn.localIdentity : BuiltIn.bootstrapIdentity
            let issued = try await kernel.tokens.bootstrap(requestedBy: requester)
            var response = Jaco_V1_InitResponse()
            response.bootstrapToken = issued.secret
            response.accessorID = issued.token.accessorID
            return ServerResponse(message: response)
        }
    }

    func status(request: ServerRequest<Jaco_V1_StatusRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_StatusResponse> {
        try await handlingErrors {
            var response = Jaco_V1_StatusResponse()
            let readiness = await kernel.readiness()
            response.initialized = readiness.initialized
            response.ready = readiness.ready
            response.problems = readiness.problems
            response.storageEngine = info.storageEngine
            response.hashingAlgorithm = info.hashingAlgorithm
            response.version = info.version
            response.storeIndex = kernel.cache.appliedIndex
            response.tokenCount = UInt32(kernel.cache.count)
            return ServerResponse(message: response)
        }
    }
}
