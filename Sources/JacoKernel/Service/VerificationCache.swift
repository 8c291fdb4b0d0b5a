import Foundation
import Synchronization

/// The in-memory digest → principal map that verification reads. It does no I/O: it is loaded
/// at start and kept current from the store's change feed.
public final class VerificationCache: Sendable {
    private final class Entry: Sendable {
        let principal: Principal
        let revokedAt: Date?
        let expiresAt: Date?

        init(principal: Principal, revokedAt: Date?, expiresAt: Date?) {
            self.principal = principal
            self.revokedAt = revokedAt
            self.expiresAt = expiresAt
        }
    }

    private struct State {
        var byDigest = DigestTable<Entry>()
        var digestByAccessor: [String: Digest256] = [:]
        var applied: StoreIndex = 0
        var waiters: [(index: StoreIndex, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let hasher: any SecretHasher
    private let state = Mutex(State())

    /// Creates an empty cache that hashes presented secrets with `hasher`.
    public init(hasher: any SecretHasher) {
        self.hasher = hasher
    }

    /// The store index the cache reflects.
    public var appliedIndex: StoreIndex { state.withLock { $0.applied } }

    /// Number of tokens (active, revoked or expired) in the cache.
    public var count: Int { state.withLock { $0.byDigest.count } }

    /// Verifies a presented secret: the principal, or `token_invalid`, `token_revoked`, `token_expired`.
    public func verify(secret: String) throws(JacoError) -> Principal {
        var secret = secret
        let result: Result<Principal, JacoError> = secret.withUTF8 { bytes in
            if let problem = SecretFormat.shapeProblem(of: bytes) {
                return .failure(Self.invalid(problem))
            }
            let digest = hasher.digest(ofSecret: UnsafeRawBufferPointer(bytes))
            guard let entry = state.withLock({ $0.byDigest[digest] }) else {
                // A miss: say why, naming a typo when the checksum shows one.
                return .failure(Self.invalid(SecretFormat.problem(with: bytes) ?? "no token has this secret"))
            }
            return Self.check(entry)
        }
        return try result.get()
    }

    private static func invalid(_ problem: String) -> JacoError {
        JacoError(.tokenInvalid, "\(problem); check the token, or ask an operator for a new one")
    }

    private static func check(_ entry: Entry) -> Result<Principal, JacoError> {
        let name = entry.principal.auditName
        if let revokedAt = entry.revokedAt {
            return .failure(JacoError(.tokenRevoked, "the token for '\(name)' was revoked at \(revokedAt.rfc3339); ask an operator for a new one"))
        }
        if let expiresAt = entry.expiresAt, expiresAt <= Date() {
            return .failure(JacoError(.tokenExpired, "the token for '\(name)' expired at \(expiresAt.rfc3339); ask an operator for a new one"))
        }
        return .success(entry.principal)
    }

    /// Replaces the contents with `tokens`, as of store index `index`.
    func reset(tokens: [Token], at index: StoreIndex) {
        let waiters = state.withLock { s in
            s.byDigest.removeAll()
            s.digestByAccessor.removeAll(keepingCapacity: true)
            for token in tokens { Self.insert(token, into: &s) }
            return Self.advance(&s, to: index)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Applies one committed change from the feed; changes already applied are skipped.
    func apply(_ change: Change) {
        if change.index <= appliedIndex { return }
        var updates: [(accessorID: String, token: Token?)] = []
        for mutation in change.mutations where mutation.key.hasPrefix(KeySpace.tokenPrefix) {
            let accessorID = String(mutation.key.dropFirst(KeySpace.tokenPrefix.count))
            if let value = mutation.value {
                // A record that does not decode cannot verify; treat it as gone.
                updates.append((accessorID, try? Token(decoding: value, key: mutation.key)))
            } else {
                updates.append((accessorID, nil))
            }
        }
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard change.index > s.applied else { return [] }
            for update in updates {
                if let old = s.digestByAccessor.removeValue(forKey: update.accessorID) {
                    s.byDigest.remove(old)
                }
                if let token = update.token { Self.insert(token, into: &s) }
            }
            return Self.advance(&s, to: change.index)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Takes this process's own commit at `index`, which wrote `tokens`, if it is the next change
    /// in line (or already applied); false when earlier changes are still to come from the feed.
    func applyCommitted(at index: StoreIndex, tokens: [Token]) -> Bool {
        let (taken, waiters) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
            if s.applied >= index { return (true, []) }
            guard s.applied == index - 1 else { return (false, []) }
            for token in tokens {
                if let old = s.digestByAccessor.removeValue(forKey: token.accessorID) { s.byDigest.remove(old) }
                Self.insert(token, into: &s)
            }
            return (true, Self.advance(&s, to: index))
        }
        for waiter in waiters { waiter.resume() }
        return taken
    }

    /// Returns once the cache reflects store index `index` (e.g. the index a write committed at).
    func waitUntilApplied(_ index: StoreIndex) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.applied >= index { return true }
                s.waiters.append((index, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    private static func insert(_ token: Token, into s: inout State) {
        s.byDigest.set(Entry(principal: token.principal, revokedAt: token.revokedAt, expiresAt: token.expirationTime), for: token.secretDigest)
        s.digestByAccessor[token.accessorID] = token.secretDigest
    }

    private static func advance(_ s: inout State, to index: StoreIndex) -> [CheckedContinuation<Void, Never>] {
        s.applied = max(s.applied, index)
        var ready: [CheckedContinuation<Void, Never>] = []
        s.waiters.removeAll { waiter in
            guard waiter.index <= s.applied else { return false }
            ready.append(waiter.continuation)
            return true
        }
        return ready
    }
}
