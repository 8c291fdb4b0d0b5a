import Foundation
import GRPCCore
import JacoKernel

/// `jaco.v1.DeployService`: manifest validation and admission, attributed to the caller.
struct DeployService: Jaco_V1_DeployService.ServiceProtocol {
    let kernel: Kernel
    let caller: CallerResolver

    func validateManifest(request: ServerRequest<Jaco_V1_ValidateManifestRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_ValidateManifestResponse> {
        try await handlingErrors {
            // The schema check needs no token (as `jaco validate`); a token sent must verify.
            if request.metadata[stringValues: "authorization"].first(where: { _ in true }) != nil || caller.mode == .localSocket {
                _ = try await caller.principal(request.metadata, peer: context.remotePeer)
            }
            let review = try kernel.deployments.validate([UInt8](request.message.manifest))
            var response = Jaco_V1_ValidateManifestResponse()
            response.services = review.services
            response.gatedServices = review.gatedServices
            return ServerResponse(message: response)
        }
    }

    func applyManifest(request: ServerRequest<Jaco_V1_ApplyManifestRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_ApplyManifestResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            let applied = try await kernel.deployments.apply(deployment: request.message.deployment, manifest: [UInt8](request.message.manifest), by: principal)
            var response = Jaco_V1_ApplyManifestResponse()
            response.deployment = request.message.deployment
            response.revision = applied.revision
            response.gatedServices = applied.review.gatedServices
            return ServerResponse(message: response)
        }
    }
}
