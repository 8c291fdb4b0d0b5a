import GRPCCore
import JacoKernel

/// `jaco.v1.Tokens`: issue, revoke, list, attributed to the calling token's identity.
struct TokensService: Jaco_V1_Tokens.ServiceProtocol {
    let kernel: Kernel
    let caller: CallerResolver

    func issue(request: ServerRequest<Jaco_V1_IssueRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_IssueResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            let message = request.message
            let issued = try await kernel.tokens.issue(
                identity: message.identity, allowsPrivileged: message.allowPrivileged,
                description: message.description_p.isEmpty ? nil : message.description_p, by: principal)
            var response = Jaco_V1_IssueResponse()
            response.token = Jaco_V1_TokenInfo(issued.token.summary)
            response.secret = issued.secret
            return ServerResponse(message: response)
        }
    }

    func revoke(request: ServerRequest<Jaco_V1_RevokeRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_RevokeResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            let token = try await kernel.tokens.revoke(identity: request.message.identity, by: principal)
            var response = Jaco_V1_RevokeResponse()
            response.token = Jaco_V1_TokenInfo(token.summary)
            return ServerResponse(message: response)
        }
    }

    func list(request: ServerRequest<Jaco_V1_ListRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_ListResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            let page = try await kernel.tokens.list(
                after: try PageToken.decode(request.message.pageToken, listing: "tokens"), limit: Int(request.message.pageSize), by: principal)
            var response = Jaco_V1_ListResponse()
            response.tokens = page.items.map(Jaco_V1_TokenInfo.init)
            response.nextPageToken = PageToken.encode(page.next, listing: "tokens")
            return ServerResponse(message: response)
        }
    }
}
