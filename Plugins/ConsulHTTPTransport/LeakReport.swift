import Hummingbird
import JacoKernel

extension ConsulAPI {
    /// `POST /v1/jaco/revoke-leaked`: a JSON array of leaked secrets (at most 1,000, body at
    /// most 1 MiB); revokes each one's token and answers one object per secret, in order:
    /// `{"result": "revoked" | "previous_secret_stopped" | "already_revoked" | "unknown" |
    /// "malformed", "identity", "accessor_id", "problem"}`. Needs no token: whoever holds a
    /// secret may kill it.
    func revokeLeaked(_ call: ConsulCall) async throws -> Response {
        let body = try await call.jsonBody("Leak report")
        guard case .array(let items) = body else {
            throw ConsulHTTPError.badRequest("Leak report decoding failed: the body must be a JSON array of secrets, e.g. [\"jaco_…\"]")
        }
        var secrets: [String] = []
        for (position, item) in items.enumerated() {
            guard case .string(let secret) = item else {
                throw ConsulHTTPError.badRequest("Leak report decoding failed: item \(position) is not a string; send the secrets as JSON strings")
            }
            secrets.append(secret)
        }
        guard !secrets.isEmpty else { throw ConsulHTTPError.badRequest("Leak report is empty; send at least one secret") }
        let outcomes = try await kernel.tokens.revokeLeaked(secrets: secrets)
        return Self.response(.ok, json: .array(outcomes.map(Self.json)))
    }

    private static func json(_ outcome: LeakedSecretOutcome) -> JSONValue {
        func object(_ result: String, _ identity: String?, _ accessorID: String?, problem: String? = nil) -> JSONValue {
            var members: [(key: String, value: JSONValue)] = [("result", .string(result))]
            if let identity { members.append(("identity", .string(identity))) }
            if let accessorID { members.append(("accessor_id", .string(accessorID))) }
            if let problem { members.append(("problem", .string(problem))) }
            return .object(members)
        }
        switch outcome {
        case .revoked(let identity, let accessorID): return object("revoked", identity, accessorID)
        case .previousSecretStopped(let identity, let accessorID): return object("previous_secret_stopped", identity, accessorID)
        case .alreadyRevoked(let identity, let accessorID): return object("already_revoked", identity, accessorID)
        case .unknown: return object("unknown", nil, nil)
        case .malformed(let problem): return object("malformed", nil, nil, problem: problem)
        }
    }
}
