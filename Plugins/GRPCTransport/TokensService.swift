import Foundation
import GRPCCore
import JacoKernel

/// `jaco.v1.Tokens`: issue, revoke, rotate, list, attributed to the calling token's identity;
/// and leak reports, which need no token.
struct TokensService: Jaco_V1_Tokens.ServiceProtocol {
    let kernel: Kernel
    let caller: CallerResolver

    func issue(request: ServerRequest<Jaco_V1_IssueRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_IssueResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            let message = request.message
            let issued = try await kernel.tokens.issue(
                identity: message.identity, allowsPrivileged: message.allowPrivileged,
                description: message.description_p.isEmpty ? nil : message.description_p,
                ttl: message.ttlMs > 0 ? TimeInterval(message.ttlMs) / 1000 : nil, by: principal)
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

    func get(request: ServerRequest<Jaco_V1_GetRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_GetResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            let message = request.message
            let reference = try Self.reference(identity: message.identity, accessorID: message.accessorID)
            var response = Jaco_V1_GetResponse()
            response.token = Jaco_V1_TokenInfo(try await kernel.tokens.get(reference, by: principal))
            return ServerResponse(message: response)
        }
    }

    func rotate(request: ServerRequest<Jaco_V1_RotateRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_RotateResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            let message = request.message
            let reference = try Self.reference(identity: message.identity, accessorID: message.accessorID)
            let rotated = try await kernel.tokens.rotate(reference, grace: TimeInterval(message.graceMs) / 1000, force: message.force, by: principal)
            var response = Jaco_V1_RotateResponse()
            response.token = Jaco_V1_TokenInfo(rotated.token.summary)
            response.secret = rotated.secret
            return ServerResponse(message: response)
        }
    }

    /// The largest leak report, in bytes of secrets.
    static let maxLeakReportBytes = 1 << 20

    func revokeLeaked(request: ServerRequest<Jaco_V1_RevokeLeakedRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_RevokeLeakedResponse> {
        try await handlingErrors {
            let secrets = request.message.secrets
            let bytes = secrets.reduce(0) { $0 + $1.utf8.count }
            guard bytes <= Self.maxLeakReportBytes else {
                throw JacoError(.validationFailed, "a leak report may carry at most 1 MiB of secrets, not \(bytes) bytes; split it")
            }
            var response = Jaco_V1_RevokeLeakedResponse()
            response.outcomes = try await kernel.tokens.revokeLeaked(secrets: secrets).map(Jaco_V1_LeakedSecretOutcome.init)
            return ServerResponse(message: response)
        }
    }

    /// The token a request names by identity or accessor ID (exactly one of them).
    static func reference(identity: String, accessorID: String) throws(JacoError) -> TokenReference {
        switch (identity.isEmpty, accessorID.isEmpty) {
        case (false, true): return .identity(identity)
        case (true, false): return .accessorID(accessorID.lowercased())
        default: throw JacoError(.validationFailed, "give the token's identity or its accessor ID (one of them)")
        }
    }
}
