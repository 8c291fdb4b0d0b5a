import HTTPTypes
import JacoKernel

/// An error answer: an HTTP status and the plain-text body Consul would send.
struct ConsulHTTPError: Error {
    /// The status code.
    var status: HTTPResponse.Status
    /// The body, e.g. `ACL not found`.
    var message: String

    /// 400 with `message`.
    static func badRequest(_ message: String) -> ConsulHTTPError { ConsulHTTPError(status: .badRequest, message: message) }

    /// 403 for a secret that does not verify (unknown, revoked, expired), as Consul words it.
    static let aclNotFound = ConsulHTTPError(status: .forbidden, message: "ACL not found")

    /// 403 naming the caller and the permission it lacks.
    static func permissionDenied(_ caller: Principal, _ right: Right) -> ConsulHTTPError {
        ConsulHTTPError(status: .forbidden, message: "Permission denied: token with AccessorID '\(caller.accessorID)' lacks permission '\(right.rawValue)'")
    }

    /// The answer for a kernel error.
    init(_ error: JacoError) {
        switch error.code {
        case .tokenInvalid, .tokenRevoked, .tokenExpired:
            self = .aclNotFound
        case .permissionDenied:
            self.init(status: .forbidden, message: "Permission denied: \(error.message)")
        case .validationFailed:
            self.init(status: .badRequest, message: error.message)
        case .notFound:
            self.init(status: .notFound, message: error.message)
        case .clusterUninitialized:
            self.init(status: .forbidden, message: "Permission denied: \(error.message)")
        case .unavailable, .closed:
            self.init(status: .serviceUnavailable, message: error.message)
        default:
            self.init(status: .internalServerError, message: "\(error.code): \(error.message)")
        }
    }

    init(status: HTTPResponse.Status, message: String) {
        self.status = status
        self.message = message
    }
}
