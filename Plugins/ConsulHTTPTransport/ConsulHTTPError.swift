import HTTPTypes
import JacoKernel

/// An error answer: an HTTP status and the plain-text body Consul would send.
struct ConsulHTTPError: Error {
    /// The status code.
    var status: HTTPResponse.Status
    /// The body, e.g. `ACL not found`.
    var message: String
    /// Jaco's stable code for it, for the denials metric.
    var code: JacoError.Code
    /// For 429: the `Retry-After` header.
    var retryAfter: Duration?

    /// 400 `Bad request: <message>`, as Consul's `BadRequestError` (agent/http.go) reads.
    static func badRequest(_ message: String) -> ConsulHTTPError { ConsulHTTPError(status: .badRequest, message: "Bad request: \(message)", code: .validationFailed) }

    /// 400 with `message` alone, where Consul writes the text itself (agent/http.go parseWait,
    /// parseConsistency).
    static func plainBadRequest(_ message: String) -> ConsulHTTPError { ConsulHTTPError(status: .badRequest, message: message, code: .validationFailed) }

    /// 403 for a secret that does not verify (unknown, revoked, expired), as Consul words it.
    static let aclNotFound = ConsulHTTPError(status: .forbidden, message: "ACL not found", code: .tokenInvalid)

    /// 403 naming the caller and the permission it lacks, as Consul's acl/errors.go words it
    /// (the anonymous token gets its own sentence).
    static func permissionDenied(_ caller: Principal, _ right: Right) -> ConsulHTTPError {
        let message = caller.accessorID == BuiltIn.anonymousTokenID
            ? "Permission denied: anonymous token lacks permission '\(right.rawValue)'. The anonymous token is used implicitly when a request does not specify a token."
            : "Permission denied: token with AccessorID '\(caller.accessorID)' lacks permission '\(right.rawValue)'"
        return ConsulHTTPError(status: .forbidden, message: message, code: .permissionDenied)
    }

    /// 403 for a secret presented before bootstrap (api/acl_test.go TestAPI_ACLBootstrap).
    static let notBootstrapped = ConsulHTTPError(
        status: .forbidden, message: "ACL system must be bootstrapped before making any requests that require authorization: ACL not found", code: .clusterUninitialized)

    /// The answer for a kernel error.
    init(_ error: JacoError) {
        let error = error.forCaller
        switch error.code {
        case .tokenInvalid, .tokenRevoked, .tokenExpired:
            self.init(status: .forbidden, message: Self.aclNotFound.message, code: error.code)
        case .permissionDenied, .clusterUninitialized:
            self.init(status: .forbidden, message: "Permission denied: \(error.message)", code: error.code)
        case .validationFailed:
            self.init(status: .badRequest, message: error.message, code: error.code)
        case .notFound:
            self.init(status: .notFound, message: error.message, code: error.code)
        case .unavailable:
            self.init(status: .serviceUnavailable, message: error.message, code: error.code)
        case .rateLimited:
            self.init(status: .tooManyRequests, message: error.message, code: error.code)
            retryAfter = error.retryAfter
        default:
            self.init(status: .internalServerError, message: "\(error.code): \(error.message)", code: error.code)
        }
    }

    init(status: HTTPResponse.Status, message: String, code: JacoError.Code = .validationFailed) {
        self.status = status
        self.message = message
        self.code = code
    }
}
