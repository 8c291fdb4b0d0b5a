import GRPCCore
import JacoKernel
import SwiftProtobuf

/// `jaco.v1.ClusterService`: bootstrap, status and client certificates. Bootstrap and status are
/// served before the cluster is initialized and need no token (as Consul's bootstrap): whoever
/// reaches a fresh daemon first initializes it.
struct ClusterService: Jaco_V1_ClusterService.ServiceProtocol {
    let kernel: Kernel
    let info: DaemonInfo
    let caller: CallerResolver
    /// The daemon's certificates (none for listeners built in code).
    let certificates: (any ClusterCertificates)?

    func initCluster(request: ServerRequest<Jaco_V1_InitClusterRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_InitClusterResponse> {
        try await handlingErrors {
            let requester = caller.mode == .localSocket ? BuiltIn.localIdentity : BuiltIn.bootstrapIdentity
            let issued = try await kernel.tokens.bootstrap(requestedBy: requester)
            var response = Jaco_V1_InitClusterResponse()
            response.token = Jaco_V1_Token(issued.token.summary)
            response.secret = issued.secret
            return ServerResponse(message: response)
        }
    }

    func getClusterStatus(request: ServerRequest<Jaco_V1_GetClusterStatusRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_GetClusterStatusResponse> {
        try await handlingErrors {
            var response = Jaco_V1_GetClusterStatusResponse()
            let readiness = await kernel.readiness()
            response.initialized = readiness.initialized
            response.ready = readiness.ready
            response.problems = readiness.problems
            response.storageEngine = info.storageEngine
            response.hashingAlgorithm = info.hashingAlgorithm
            response.version = info.version
            response.storeIndex = kernel.cache.appliedIndex
            response.tokenCount = UInt64(kernel.cache.count)
            response.certificates = (certificates?.inventory() ?? []).map(Jaco_V1_Certificate.init)
            return ServerResponse(message: response)
        }
    }

    func issueClientCertificate(
        request: ServerRequest<Jaco_V1_IssueClientCertificateRequest>, context: ServerContext
    ) async throws -> ServerResponse<Jaco_V1_IssueClientCertificateResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            guard let certificates else {
                throw JacoError(.failedPrecondition, "this listener cannot issue client certificates")
            }
            let message = request.message
            guard message.validityDays >= 0 else { throw JacoError(.validationFailed, "validity_days must not be negative, not \(message.validityDays)") }
            let days = message.validityDays == 0 ? 365 : Int(message.validityDays)
            let issued = try await kernel.tokens.issueClientCertificate(name: message.name, days: days, by: principal) {
                try certificates.issueClientCertificate(name: message.name, requestPEM: message.certificateRequestPem, days: days)
            }
            var response = Jaco_V1_IssueClientCertificateResponse()
            response.certificatePem = issued.certificatePEM
            response.serial = issued.serial
            response.notAfterTime = Google_Protobuf_Timestamp(date: issued.notAfter)
            response.caCertificatePem = issued.caCertificatePEM
            return ServerResponse(message: response)
        }
    }
}
