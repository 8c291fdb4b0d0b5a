/// An error with a stable, scriptable `code` and a message a person can act on.
///
/// Codes are open-ended (new ones can be added without breaking callers); compare with the
/// static members, e.g. `error.code == .tokenRevoked`.
public struct JacoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable machine-readable error code such as `token_revoked`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code as it appears on the wire and in CLI output.
        public let rawValue: String
        /// Creates a code from its wire form.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The secret is malformed or unknown.
        public static let tokenInvalid = Code("token_invalid")
        /// The secret belongs to a revoked token.
        public static let tokenRevoked = Code("token_revoked")
        /// The secret belongs to an expired token.
        public static let tokenExpired = Code("token_expired")
        /// The caller lacks a right the operation needs.
        public static let permissionDenied = Code("permission_denied")
        /// The request or its input is not valid.
        public static let validationFailed = Code("validation_failed")
        /// A token with that identity already exists.
        public static let duplicateIdentity = Code("duplicate_identity")
        /// The named thing does not exist.
        public static let notFound = Code("not_found")
        /// The cluster has not been bootstrapped yet.
        public static let clusterUninitialized = Code("cluster_uninitialized")
        /// The cluster was bootstrapped already.
        public static let alreadyInitialized = Code("already_initialized")
        /// A conditional write lost against a concurrent writer.
        public static let conflict = Code("conflict")
        /// The store has no room for the write.
        public static let storeFull = Code("store_full")
        /// The storage engine failed.
        public static let storageFailure = Code("storage_failure")
        /// The change feed cannot resume from an index that is no longer retained.
        public static let compacted = Code("compacted")
        /// A dependency (e.g. the store) cannot be reached.
        public static let unavailable = Code("unavailable")
        /// The configuration is invalid.
        public static let configInvalid = Code("config_invalid")
        /// A listener cannot take its address (in use, not permitted, no such address).
        public static let listenFailed = Code("listen_failed")
        /// The audit hash chain is broken.
        public static let auditChainBroken = Code("audit_chain_broken")
        /// The store was closed.
        public static let closed = Code("closed")
        /// The operation needs something this daemon lacks (e.g. the cluster CA's key).
        public static let failedPrecondition = Code("failed_precondition")
        /// A write was sent but not confirmed: it may or may not have been applied.
        public static let outcomeUnknown = Code("outcome_unknown")
        /// Too many failed authentications from the caller's address: try again later.
        public static let rateLimited = Code("rate_limited")
    }

    /// The stable code.
    public var code: Code
    /// What went wrong and, where possible, what to do about it.
    public var message: String
    /// A description of the underlying cause, if any.
    public var cause: String?
    /// For `rate_limited`: how long to wait before trying again.
    public var retryAfter: Duration?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(code): \(message) (\(cause))" }
        return "\(code): \(message)"
    }

    /// This error as a transport answers a caller with it: a store closed under a call (the
    /// daemon is shutting down and cut the call off) is `unavailable`, which clients retry.
    public var forCaller: JacoError {
        guard code == .closed else { return self }
        return JacoError(.unavailable, "jacod is shutting down (\(message)); try again once it is back, or on another daemon")
    }
}
