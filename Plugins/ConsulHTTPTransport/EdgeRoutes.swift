import HTTPTypes
import Hummingbird
import JacoKernel
import NIOCore

/// Answers Consul gives at the edges of its ACL API, ported from agent/http.go and
/// agent/acl_endpoint.go: a known path with the wrong method is `405 method X not allowed`
/// with an `Allow` header (OPTIONS first), and `OPTIONS` on it is a 200 with that header; an item path without its ID is `400 Bad request: Missing token ID`
/// (policy, role); and `/v1/acl/replication` answers as a single datacenter does.
enum EdgeRoutes {
    /// Each path the listener serves and the methods registered for it (Consul's, for its ACL
    /// paths), the first match winning.
    static let paths: [(path: String, allowed: [HTTPRequest.Method])] = [
        ("/v1/acl/bootstrap", [.put]),
        ("/v1/acl/token", [.put]), ("/v1/acl/token/self", [.get]), ("/v1/acl/token/:id", [.get, .put, .delete]), ("/v1/acl/token/:id/clone", [.put]),
        ("/v1/acl/tokens", [.get]),
        ("/v1/acl/policy", [.put]), ("/v1/acl/policy/:id", [.get, .put, .delete]), ("/v1/acl/policy/name/:name", [.get]),
        ("/v1/acl/policies", [.get]),
        ("/v1/acl/role", [.put]), ("/v1/acl/role/:id", [.get, .put, .delete]), ("/v1/acl/role/name/:name", [.get]),
        ("/v1/acl/roles", [.get]),
        ("/v1/acl/auth-method", [.put]), ("/v1/acl/auth-method/:name", [.get, .put, .delete]), ("/v1/acl/auth-methods", [.get]),
        ("/v1/acl/binding-rule", [.put]), ("/v1/acl/binding-rule/:id", [.get, .put, .delete]), ("/v1/acl/binding-rules", [.get]),
        ("/v1/acl/login", [.post]), ("/v1/acl/logout", [.post]),
        ("/v1/acl/replication", [.get]), ("/v1/acl/templated-policies", [.get]), ("/v1/status/leader", [.get]),
        ("/v1/jaco/health", [.get]), ("/v1/jaco/ready", [.get]), ("/v1/jaco/revoke-leaked", [.post]),
    ]

    /// The methods registered for `path`, if it is one of ``paths`` (`:name` segments match
    /// any one segment; a trailing slash is ignored, as the router ignores it).
    static func allowedMethods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return paths.first { route in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: true)
            return pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }?.allowed
    }

    /// Answers what the router found no handler for, on a known path: `OPTIONS` is 200 with
    /// `Allow`, an item read or delete without its ID is 400, any other method (TRACE, HEAD,
    /// QUERY, …) is 405 with `Allow`. Unknown paths stay 404. Added to the router after every
    /// route, so it wraps only the router's not-found answer.
    struct MethodNotAllowedMiddleware: RouterMiddleware {
        typealias Context = ConsulRequestContext
        let respond: @Sendable (() async throws -> Response) async -> Response

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound {
                guard let allowed = EdgeRoutes.allowedMethods(for: request.uri.path) else { throw error }
                let allow = ([.options] + allowed).map(\.rawValue).joined(separator: ",")
                if request.method == .options { return Response(status: .ok, headers: [.allow: allow, .contentLength: "0"]) }
                var response = await respond {
                    // The router takes `/v1/acl/token/` for `/v1/acl/token`: an item read or
                    // delete without its ID.
                    if request.uri.path.hasSuffix("/"), request.method == .get || request.method == .delete,
                        let noun = missingIDNoun(request.uri.path)
                    {
                        throw ConsulHTTPError.badRequest("Missing \(noun) ID")
                    }
                    throw ConsulHTTPError(
                        status: .methodNotAllowed, message: "method \(EchoedInput.quote(request.method.rawValue)) not allowed", code: .validationFailed)
                }
                if response.status == .methodNotAllowed { response.headers[.allow] = allow }
                return response
            }
        }
    }

    /// `token`, `policy` or `role` for their item paths without an ID.
    private static func missingIDNoun(_ path: String) -> String? {
        ["token", "policy", "role"].first { path == "/v1/acl/\($0)/" }
    }

    /// `GET /v1/acl/replication` on a datacenter that replicates from nowhere (Consul's
    /// ACLReplicationStatus with replication off).
    static let replicationStatus: JSONValue = .object([
        ("Enabled", .bool(false)), ("Running", .bool(false)), ("SourceDatacenter", .string("")), ("ReplicationType", .string("")),
        ("ReplicatedIndex", .number("0")), ("ReplicatedRoleIndex", .number("0")), ("ReplicatedTokenIndex", .number("0")),
        ("LastSuccess", .string("0001-01-01T00:00:00Z")), ("LastError", .string("0001-01-01T00:00:00Z")), ("LastErrorMessage", .string("")),
    ])
}
