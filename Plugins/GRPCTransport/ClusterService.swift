import GRPCCore
import JacoKernel

/// `jaco.v1.Cluster`: bootstrap, status and client certificates. Bootstrap and status are
/// served before the cluster is initialized and need no token (as Consul's bootstrap): whoever
/// reaches a fresh daemon first initializes it.
struct ClusterService: Jaco_V1_Cluster.ServiceProtocol {
    let kernel: Kernel
    let info: DaemonInfo
    let caller: CallerResolver
    /// The daemon's certificates (none for listeners built in code).
    let certificates: (any ClusterCertificates)?

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
            response.certificates = (certificates?.inventory() ?? []).map { summary in
                var info = Jaco_V1_CertificateInfo()
                info.role = summary.role
                info.subject = summary.subject
                info.notBeforeMs = summary.notBefore.milliseconds
                info.notAfterMs = summary.notAfter.milliseconds
                return info
            }
            return ServerResponse(message: response)
        }
    }

    func issueClientCertificate(
        request: ServerRequest<Jaco_V1_IssueClientCertificateRequest>, context: ServerContext
    ) async throws -> ServerResponse<Jaco_V1_IssueClientCertificateResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            guard let certificates else {
                throw JacoError(.failedPrecondition, "this listener cannot issue client certificates")
            }
            let message = request.message
            let days = message.days == 0 ? 365 : Int(message.days)
            let issued = try await kernel.tokens.issueClientCertificate(name: message.name, days: days, by: principal) {
                try certificates.issueClientCertificate(name: message.name, requestPEM: message.certificateRequestPem, days: days)
            }
            var response = Jaco_V1_IssueClientCertificateResponse()
            response.certificatePem = issued.certificatePEM
            response.serial = issued.serial
            response.notAfterMs = issued.notAfter.milliseconds
            response.caCertificatePem = issued.caCertificatePEM
            return ServerResponse(message: response)
        }
    }
}
