import GRPCCore
import GRPCProtobuf
import JacoKernel

/// The metadata key that carries Jaco's stable error code next to the gRPC status.
let errorCodeKey = "jaco-error-code"
/// The `google.rpc.ErrorInfo.domain` of Jaco's errors.
let errorDomain = "jaco"

extension JacoError {
    /// The gRPC status code for this error, with the stable Jaco code twice: as gRPC's standard
    /// rich status (`grpc-status-details-bin`: a `google.rpc.Status` whose `google.rpc.ErrorInfo`
    /// has `reason` = the code and `domain` = "jaco", and for `rate_limited` a
    /// `google.rpc.RetryInfo`), and in `jaco-error-code` for clients that read that.
    /// The message is bounded (gRPC trailers hold 16 KiB) and escaped.
    var rpcError: RPCError {
        let message = EchoedInput.bounded(self.message)
        var details: [ErrorDetails] = [.errorInfo(reason: code.rawValue, domain: errorDomain)]
        // `rate_limited`: google.rpc.RetryInfo says when to try again.
        if let retryAfter { details.append(.retryInfo(delay: retryAfter)) }
        let status = GoogleRPCStatus(code: Self.statusCode(for: code), message: message, details: details)
        var metadata = status.rpcErrorMetadata
        metadata.addString(code.rawValue, forKey: errorCodeKey)
        return RPCError(code: status.code, message: message, metadata: metadata)
    }

    private static func statusCode(for code: Code) -> RPCError.Code {
        switch code {
        case .tokenInvalid, .tokenRevoked, .tokenExpired: .unauthenticated
        case .permissionDenied: .permissionDenied
        case .validationFailed, .configInvalid: .invalidArgument
        case .duplicateIdentity, .alreadyInitialized: .alreadyExists
        case .notFound: .notFound
        case .clusterUninitialized, .failedPrecondition: .failedPrecondition
        case .conflict: .aborted
        case .storeFull, .rateLimited: .resourceExhausted
        case .unavailable: .unavailable
        default: .internalError
        }
    }

    /// The Jaco error an RPC error stands for: the code from metadata when the server sent one;
    /// otherwise `unavailable` (transport trouble) or a generic code from the status.
    public init(_ error: RPCError) {
        if let code = error.metadata[stringValues: errorCodeKey].first(where: { _ in true }) {
            self.init(Code(code), error.message)
            return
        }
        switch error.code {
        case .unavailable, .deadlineExceeded:
            self.init(.unavailable, "cannot reach the Jaco server: \(error.message)")
        case .unauthenticated: self.init(.tokenInvalid, error.message)
        case .permissionDenied: self.init(.permissionDenied, error.message)
        default: self.init(Code("rpc_\(error.code)"), error.message)
        }
    }
}

/// Runs a handler body, turning Jaco errors into RPC errors with the stable code attached.
func handlingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as JacoError {
        throw error.forCaller.rpcError
    }
}
