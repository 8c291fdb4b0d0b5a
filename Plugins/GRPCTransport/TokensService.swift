import Foundation
import GRPCCore
import JacoKernel
import SwiftProtobuf

/// `jaco.v1.TokenService`: issue, revoke, rotate, list, attributed to the calling token's
/// identity; leak reports and logins, which need no token; logout.
struct TokensService: Jaco_V1_TokenService.ServiceProtocol {
    let kernel: Kernel
    let caller: CallerResolver

    func issueToken(request: ServerRequest<Jaco_V1_IssueTokenRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_IssueTokenResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            let message = request.message
            let issued = try await kernel.tokens.issue(
                identity: message.identity, allowsPrivileged: message.allowsPrivileged,
                description: message.description_p.isEmpty ? nil : message.description_p,
                ttl: message.hasTtl ? try Self.positive(message.ttl, "ttl") : nil, by: principal)
            var response = Jaco_V1_IssueTokenResponse()
            response.token = Jaco_V1_Token(issued.token.summary)
            response.secret = issued.secret
            return ServerResponse(message: response)
        }
    }

    func revokeToken(request: ServerRequest<Jaco_V1_RevokeTokenRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_RevokeTokenResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            let token = try await kernel.tokens.revoke(identity: request.message.identity, by: principal)
            var response = Jaco_V1_RevokeTokenResponse()
            response.token = Jaco_V1_Token(token.summary)
            return ServerResponse(message: response)
        }
    }

    func listTokens(request: ServerRequest<Jaco_V1_ListTokensRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_ListTokensResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            let page = try await kernel.tokens.list(
                after: try PageToken.decode(request.message.pageToken, listing: "tokens"), limit: try pageLimit(request.message.pageSize), by: principal)
            var response = Jaco_V1_ListTokensResponse()
            response.tokens = page.items.map(Jaco_V1_Token.init)
            response.nextPageToken = PageToken.encode(page.next, listing: "tokens")
            return ServerResponse(message: response)
        }
    }

    func getToken(request: ServerRequest<Jaco_V1_GetTokenRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_GetTokenResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            let message = request.message
            let reference = try Self.reference(identity: message.identity, accessorID: message.accessorID)
            var response = Jaco_V1_GetTokenResponse()
            response.token = Jaco_V1_Token(try await kernel.tokens.get(reference, by: principal))
            return ServerResponse(message: response)
        }
    }

    func rotateToken(request: ServerRequest<Jaco_V1_RotateTokenRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_RotateTokenResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            let message = request.message
            let reference = try Self.reference(identity: message.identity, accessorID: message.accessorID)
            let grace = message.hasGrace ? try Self.nonNegative(message.grace, "grace") : 0
            let rotated = try await kernel.tokens.rotate(reference, grace: grace, force: message.force, by: principal)
            var response = Jaco_V1_RotateTokenResponse()
            response.token = Jaco_V1_Token(rotated.token.summary)
            response.secret = rotated.secret
            return ServerResponse(message: response)
        }
    }

    /// The largest leak report, in bytes of secrets.
    static let maxLeakReportBytes = 1 << 20

    func revokeLeakedSecrets(
        request: ServerRequest<Jaco_V1_RevokeLeakedSecretsRequest>, context: ServerContext
    ) async throws -> ServerResponse<Jaco_V1_RevokeLeakedSecretsResponse> {
        try await handlingErrors {
            let secrets = request.message.secrets
            let bytes = secrets.reduce(0) { $0 + $1.utf8.count }
            guard bytes <= Self.maxLeakReportBytes else {
                throw JacoError(.validationFailed, "a leak report may carry at most 1 MiB of secrets, not \(bytes) bytes; split it")
            }
            var response = Jaco_V1_RevokeLeakedSecretsResponse()
            response.outcomes = try await kernel.tokens.revokeLeaked(secrets: secrets).map(Jaco_V1_LeakedSecretOutcome.init)
            return ServerResponse(message: response)
        }
    }

    func login(request: ServerRequest<Jaco_V1_LoginRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_LoginResponse> {
        try await handlingErrors {
            // No caller token: the credential is the authentication.
            let message = request.message
            let login = { try await kernel.login.login(method: message.authMethod, credential: message.bearerToken, meta: message.meta) }
            // Refused credentials count against the caller's address, as unknown secrets do.
            let issued =
                if let throttle = caller.throttle {
                    try await throttle.login(from: CallerResolver.address(ofPeer: context.remotePeer), login)
                } else {
                    try await login()
                }
            var response = Jaco_V1_LoginResponse()
            response.token = Jaco_V1_Token(issued.token.summary)
            response.secret = issued.secret
            return ServerResponse(message: response)
        }
    }

    func logout(request: ServerRequest<Jaco_V1_LogoutRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_LogoutResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            if principal.accessorID == CallerResolver.local.accessorID {
                throw JacoError(.validationFailed, "log out with the login token itself (over TLS, with --token), not on the unix socket")
            }
            try await kernel.login.logout(principal)
            return ServerResponse(message: Jaco_V1_LogoutResponse())
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

    /// A duration field that must be more than zero when set.
    static func positive(_ duration: Google_Protobuf_Duration, _ field: String) throws(JacoError) -> TimeInterval {
        let seconds = try nonNegative(duration, field)
        guard seconds > 0 else { throw JacoError(.validationFailed, "\(field) must be more than zero when set (leave it unset for none)") }
        return seconds
    }

    /// A duration field that must not be negative.
    static func nonNegative(_ duration: Google_Protobuf_Duration, _ field: String) throws(JacoError) -> TimeInterval {
        guard duration.seconds >= 0, duration.nanos >= 0 else {
            throw JacoError(.validationFailed, "\(field) must not be negative, not \(duration.seconds)s")
        }
        return duration.timeInterval
    }
}
