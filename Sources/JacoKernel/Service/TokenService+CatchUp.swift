import Foundation

extension TokenService {
    /// The longest a verify waits for this daemon's cache to catch up with a shared store.
    public static let catchUpLimit = Duration.seconds(2)

    /// Whether a secret that just failed verification is worth verifying once more: true when
    /// the store is shared with other daemons (etcd), the failure was a well-formed secret that
    /// no token has (`token_invalid`), and this cache was behind the store and has now caught
    /// up with it (waiting at most ``catchUpLimit``). A token issued or rotated on another
    /// daemon moments ago then verifies here as well, not only once the change feed brings it.
    /// Costs one store read (etcd: one linearizable range) per such failure; transports count
    /// the first attempt against the caller's address as any failed verify.
    func catchUp(after error: JacoError, secret: String) async -> Bool {
        guard storeIsShared, error.code == .tokenInvalid, SecretFormat.problem(with: secret) == nil else { return false }
        guard let current = try? await storage.read({ $0.index }), cache.appliedIndex < current else { return false }
        return await cache.waitUntilApplied(current, timeout: Self.catchUpLimit)
    }

    /// `verify(secret)` (a transport's verify, e.g. through its throttle); when that fails and
    /// ``catchUp(after:secret:)`` says the cache has caught up with a shared store, once more.
    public func verifyCatchingUp(secret: String, _ verify: (String) throws(JacoError) -> Principal) async throws(JacoError) -> Principal {
        do {
            return try verify(secret)
        } catch {
            guard await catchUp(after: error, secret: secret) else { throw error }
            return try verify(secret)
        }
    }
}
