import HTTPTypes
import Hummingbird
import JacoKernel
import NIOCore

/// Answers Consul gives at the edges of its ACL API, ported from agent/http.go and
/// agent/acl_endpoint.go: a known path with the wrong method is `405 method X not allowed`
/// with an `Allow` header; an item path without its ID is `400 Bad request: Missing token ID`
/// (policy, role); and `/v1/acl/replication` answers as a single datacenter does.
enum EdgeRoutes {
    /// Each ACL path and the methods Consul registers for it.
    static let paths: [(path: RouterPath, allowed: [HTTPRequest.Method])] = [
        ("/v1/acl/bootstrap", [.put]),
        ("/v1/acl/token", [.put]), ("/v1/acl/token/:id", [.get, .put, .delete]), ("/v1/acl/token/:id/clone", [.put]),
        ("/v1/acl/tokens", [.get]),
        ("/v1/acl/policy", [.put]), ("/v1/acl/policy/:id", [.get, .put, .delete]), ("/v1/acl/policies", [.get]),
        ("/v1/acl/role", [.put]), ("/v1/acl/role/:id", [.get, .put, .delete]), ("/v1/acl/roles", [.get]),
    ]

    /// Methods a client may try on a path that does not take them.
    static let methods: [HTTPRequest.Method] = [.get, .put, .post, .delete, .patch]

    /// Registers the 405 answers (and, on the same routes, the missing-ID answers) on `router`.
    static func register(on router: Router<BasicRequestContext>, respond: @escaping @Sendable (() async throws -> Response) async -> Response) {
        for (path, allowed) in paths {
            let allow = allowed.map(\.rawValue).joined(separator: ",")
            for method in methods where !allowed.contains(method) {
                router.on(path, method: method) { request, _ in
                    var response = await respond {
                        // The router takes `/v1/acl/token/` for `/v1/acl/token`: an item read or
                        // delete without its ID.
                        if request.uri.path.hasSuffix("/"), method == .get || method == .delete, let noun = missingIDNoun(request.uri.path) {
                            throw ConsulHTTPError.badRequest("Missing \(noun) ID")
                        }
                        throw ConsulHTTPError(status: .methodNotAllowed, message: "method \(request.method.rawValue) not allowed", code: .validationFailed)
                    }
                    if response.status == .methodNotAllowed { response.headers[.allow] = allow }
                    return response
                }
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
