import Foundation
import Synchronization

/// Issues, revokes, lists and verifies tokens. Secrets are shown once and never stored.
public final class TokenService: Sendable {
    let storage: any Storage
    let hasher: any SecretHasher
    let cache: VerificationCache
    let pipeline: WritePipeline
    let clock: @Sendable () -> Date
    let metrics: KernelMetrics
    /// TTL bounds and last-used timing.
    public let settings: TokenSettings
    private let initialized = Atomic<Bool>(false)
    /// Set for shared stores with `down_policy = "deny"`: verifies fail while the feed is down.
    private let reachability: (any ReachabilityReporting)?
    /// Whether other daemons write the store too (etcd): then a secret this cache does not know
    /// may have been issued elsewhere moments ago (``catchUp(after:secret:)``).
    let storeIsShared: Bool

    init(
        storage: any Storage, hasher: any SecretHasher, cache: VerificationCache, pipeline: WritePipeline, metrics: KernelMetrics,
        settings: TokenSettings, clock: @escaping @Sendable () -> Date
    ) {
        self.storage = storage
        self.settings = settings
        self.metrics = metrics
        self.hasher = hasher
        self.cache = cache
        self.pipeline = pipeline
        self.clock = clock
        let shared = storage as? any ReachabilityReporting
        self.storeIsShared = shared != nil
        self.reachability = shared?.denyVerifiesWhenUnreachable == true ? shared : nil
    }

    /// The longest identity accepted.
    public static let maxIdentityLength = 128

    /// Whether bootstrap has run. Once true it stays true, so later calls answer from memory.
    public func isInitialized() async throws -> Bool {
        if initialized.load(ordering: .relaxed) { return true }
        let stored = try await storage.read { try await $0.get(KeySpace.bootstrapMarker) != nil }
        if stored { initialized.store(true, ordering: .relaxed) }
        return stored
    }

    /// Creates the bootstrap token (identity `bootstrap`, management rights, not privileged).
    /// Runs once; a second call fails `already_initialized`.
    /// `secret` makes a caller-chosen secret the bootstrap token's (Consul's `BootstrapSecret`:
    /// a UUID or a Jaco token, not a reserved one).
    public func bootstrap(requestedBy caller: String = BuiltIn.bootstrapIdentity, secret: String? = nil) async throws -> IssuedToken {
        try await pipeline.run { [self] snapshot in
            if try await snapshot.get(KeySpace.bootstrapMarker) != nil {
                throw JacoError(.alreadyInitialized, "the cluster is already initialized; use an existing operator token")
            }
            var issued = try await newToken(identity: BuiltIn.bootstrapIdentity, allowsPrivileged: false, description: "Bootstrap Token (Global Management)", in: snapshot)
            if let secret {
                if secret.lowercased().hasPrefix(BuiltIn.reservedIDPrefix) {
                    throw JacoError(.validationFailed, "Invalid bootstrap secret: UUIDs with the prefix \"\(BuiltIn.reservedIDPrefix)\" are reserved")
                }
                if let problem = SecretFormat.problem(with: secret) {
                    throw JacoError(.validationFailed, "Invalid bootstrap secret: not a valid UUID or Jaco token (\(problem))")
                }
                issued = IssuedToken(token: issued.token, secret: secret)
                issued.token.secretDigest = hasher.digest(ofSecret: secret)
            }
            var planned = try plan(issued, auditType: AuditEventType.clusterBootstrap, caller: caller)
            planned.transaction.conditions.append(.absent(KeySpace.bootstrapMarker))
            planned.transaction.writes.append(.put(KeySpace.bootstrapMarker, Data(issued.token.accessorID.utf8)))
            // The built-in policies: management (the bootstrap token links to it) and read-only.
            for builtIn in [Policy.globalManagement, Policy.globalReadOnly] {
                planned.transaction.writes.append(.put(KeySpace.policy(builtIn.id), builtIn.encode()))
                planned.transaction.writes.append(.put(KeySpace.policyName(builtIn.name), Data(builtIn.id.utf8)))
            }
            // The anonymous token: what callers without a secret act as. No secret verifies as
            // it (its digest is of random bytes nobody holds); operators may link policies to it.
            if try await snapshot.get(KeySpace.token(BuiltIn.anonymousTokenID)) == nil {
                let anonymous = Token(
                    accessorID: BuiltIn.anonymousTokenID, identity: nil, secretDigest: hasher.digest(ofSecret: SecretFormat.generate()),
                    description: BuiltIn.anonymousDescription, issuedAt: clock())
                planned.transaction.conditions.append(.absent(KeySpace.token(anonymous.accessorID)))
                planned.transaction.writes.append(.put(KeySpace.token(anonymous.accessorID), anonymous.encode()))
                planned.tokens.append(anonymous)
            }
            return planned
        }
    }

    /// Mints a token bound to `identity`, expiring after `ttl` when given; the returned secret is
    /// the only copy. An identity whose token was revoked or expired can be issued again: the
    /// name moves to the new token, and the old record stays for the audit trail.
    public func issue(
        identity: String, allowsPrivileged: Bool = false, description: String? = nil, ttl: TimeInterval? = nil, by caller: Principal
    ) async throws -> IssuedToken {
        try caller.require(.aclWrite)
        try Self.validate(identity: identity)
        if let ttl { try settings.check(ttl: ttl) }
        return try await pipeline.run { [self] snapshot in
            try await requireInitialized(snapshot)
            var issued = try await newToken(identity: identity, allowsPrivileged: allowsPrivileged, description: description ?? "Token for \(identity)", in: snapshot)
            if let ttl { issued.token.expirationTime = issued.token.issuedAt.addingTimeInterval(ttl) }
            return try plan(issued, auditType: AuditEventType.tokenIssue, caller: caller.auditName)
        }
    }

    /// Mints one token for each of `identities` (not privileged) in one transaction: all or
    /// none, each audited as `token_issue`. For bulk loads (imports, the scale benchmark); the
    /// secrets come back in the same order and are the only copies.
    public func issue(identities: [String], by caller: Principal) async throws -> [IssuedToken] {
        try caller.require(.aclWrite)
        for identity in identities { try Self.validate(identity: identity) }
        guard Set(identities).count == identities.count else {
            throw JacoError(.validationFailed, "the batch names an identity twice; each token needs its own")
        }
        return try await pipeline.run { [self] snapshot in
            try await requireInitialized(snapshot)
            var batch = PlannedWrite<[IssuedToken]>(transaction: Transaction(writes: []), audit: [], result: [])
            for identity in identities {
                let one = try plan(
                    try await newToken(identity: identity, allowsPrivileged: false, description: "Token for \(identity)", in: snapshot),
                    auditType: AuditEventType.tokenIssue, caller: caller.auditName)
                batch.transaction.conditions += one.transaction.conditions
                batch.transaction.writes += one.transaction.writes
                batch.audit += one.audit
                batch.result.append(one.result)
                batch.tokens += one.tokens
            }
            return batch
        }
    }

    /// Revokes the token bound to `identity`: sets revoked-at and keeps the record. Revoking a
    /// revoked token changes nothing and returns it as it is.
    @discardableResult
    public func revoke(identity: String, by caller: Principal) async throws -> Token {
        try caller.require(.aclWrite)
        do {
            return try await revokeOnce(identity: identity, by: caller)
        } catch let already as AlreadyRevoked {
            return already.token
        }
    }

    private func revokeOnce(identity: String, by caller: Principal) async throws -> Token {
        try await pipeline.run { [self] snapshot in
            try await requireInitialized(snapshot)
            let (token, version) = try await token(identity: identity, in: snapshot)
            if token.revokedAt != nil {
                throw AlreadyRevoked(token: token)
            }
            var revoked = token
            revoked.revokedAt = clock()
            return PlannedWrite(
                transaction: Transaction(
                    conditions: [.modifiedAt(KeySpace.token(token.accessorID), version)],
                    writes: [.put(KeySpace.token(token.accessorID), revoked.encode())]),
                audit: [AuditRecord(identity: caller.auditName, type: AuditEventType.tokenRevoke, payload: [
                    "identity": identity, "accessor_id": token.accessorID,
                ])],
                result: revoked,
                tokens: [revoked])
        }
    }

    /// The policy with `id`, or nil.
    public func policy(id: String) async throws -> Policy? {
        try await storage.read { snapshot in
            try await snapshot.get(KeySpace.policy(id)).map { try Policy(decoding: $0.bytes, key: KeySpace.policy(id)) }
        }
    }

    /// One page of tokens in accessor-ID order, after the cursor `after`, without digests or
    /// secrets (`limit` clamped by ``Paging/size(_:)``).
    public func list(after: String?, limit: Int = Paging.defaultPageSize, by caller: Principal) async throws -> ListPage<TokenSummary> {
        try caller.require(.aclRead)
        var page = try await storage.read { snapshot in
            try await Paging.page(of: KeySpace.tokenPrefix, after: after, limit: limit, in: snapshot) {
                try Token(decoding: $0.value.bytes, key: $0.key).summary
            }
        }
        cache.annotate(&page.items)
        return page
    }

    /// Every token, page by page into one array: for tests and small in-process stores. The
    /// transports page (``list(after:limit:by:)``) so that no call holds a large store at once.
    public func listAll(by caller: Principal) async throws -> [TokenSummary] {
        try await ListPage.collect { try await list(after: $0, by: caller) }
    }

    /// The principal of a presented secret, from memory; no I/O.
    public func verify(secret: String) throws(JacoError) -> Principal {
        do throws(JacoError) {
            if reachability?.isReachable == false {
                throw JacoError(.unavailable, "the token store cannot be reached and the down policy is 'deny'; try again when it is back")
            }
            // Successes are counted by the cache (see ``VerificationCache/verifiedCount``).
            return try cache.verify(secret: secret)
        } catch {
            metrics.countVerify(error)
            throw error
        }
    }

    /// Checks an identity: 1 to 128 characters of letters, digits, `.`, `_`, `-`, `@`, starting
    /// with a letter or digit; `local` is reserved for unix-socket callers.
    public static func validate(identity: String) throws(JacoError) {
        let allowed = identity.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_@".unicodeScalars.contains($0)) }
        guard !identity.isEmpty, identity.count <= maxIdentityLength, allowed,
            let first = identity.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first)
        else {
            throw JacoError(.validationFailed, "identity '\(EchoedInput.quote(identity))' is not valid: use 1 to \(maxIdentityLength) letters, digits, '.', '_', '-' or '@', starting with a letter or digit")
        }
        if identity == BuiltIn.localIdentity {
            throw JacoError(.validationFailed, "identity 'local' is reserved for callers on the local unix socket; choose another name")
        }
    }

    // MARK: - Helpers

    private struct AlreadyRevoked: Error { var token: Token }

    func requireInitialized(_ snapshot: any StorageSnapshot) async throws {
        if try await snapshot.get(KeySpace.bootstrapMarker) == nil {
            throw JacoError(.clusterUninitialized, "the cluster is not initialized; run 'jaco cluster init' first")
        }
    }

    func token(identity: String, in snapshot: any StorageSnapshot) async throws -> (Token, StoreIndex) {
        guard let accessor = try await snapshot.get(KeySpace.identity(identity)) else {
            throw JacoError(.notFound, "no token has identity '\(EchoedInput.quote(identity))'; 'jaco token list' shows the identities")
        }
        let key = KeySpace.token(String(decoding: accessor.bytes, as: UTF8.self))
        guard let stored = try await snapshot.get(key) else {
            throw JacoError(.storageFailure, "the identity index names '\(key)', which does not exist")
        }
        return (try Token(decoding: stored.bytes, key: key), stored.modifyIndex)
    }

    /// A new token for `identity`. The identity must be free, or its token revoked or expired
    /// (then `previousHolder` is that token's identity-index version, for the write's condition).
    private func newToken(identity: String, allowsPrivileged: Bool, description: String, in snapshot: any StorageSnapshot) async throws -> IssuedToken {
        var previousHolder: StoreIndex? = nil
        if let index = try await snapshot.get(KeySpace.identity(identity)) {
            let (holder, _) = try await token(identity: identity, in: snapshot)
            if holder.revokedAt == nil, !holder.isExpired(at: clock()) {
                throw JacoError(.duplicateIdentity, "a token with identity '\(identity)' already exists and is active; rotate its secret with 'jaco token rotate \(identity)', or revoke it first to issue a new one")
            }
            previousHolder = index.modifyIndex
        }
        let secret = SecretFormat.generate()
        let token = Token(
            accessorID: UUID().uuidString.lowercased(), identity: identity, secretDigest: hasher.digest(ofSecret: secret),
            description: description, policyIDs: [BuiltIn.globalManagementPolicyID], allowsPrivileged: allowsPrivileged,
            issuedAt: clock())
        return IssuedToken(token: token, secret: secret, previousHolder: previousHolder)
    }

    private func plan(_ issued: IssuedToken, auditType: String, caller: String) throws -> PlannedWrite<IssuedToken> {
        let token = issued.token
        let identityKey = KeySpace.identity(token.identity!)
        return PlannedWrite(
            transaction: Transaction(
                // The accessor ID and the secret are fresh random values (122 and 190 bits),
                // so only the identity can collide: it is free, or still held by the revoked
                // or expired token this one replaces.
                conditions: [issued.previousHolder.map { .modifiedAt(identityKey, $0) } ?? .absent(identityKey)],
                writes: [
                    .put(KeySpace.token(token.accessorID), token.encode()),
                    .put(KeySpace.identity(token.identity!), Data(token.accessorID.utf8)),
                    .put(KeySpace.digest(token.secretDigest), Data(token.accessorID.utf8)),
                ]),
            audit: [AuditRecord(identity: caller, type: auditType, payload: [
                "identity": token.identity!, "accessor_id": token.accessorID,
                "allows_privileged": String(token.allowsPrivileged),
            ].merging(token.expirationTime.map { ["expires_at": $0.rfc3339] } ?? [:]) { $1 })],
            result: issued,
            tokens: [token])
    }
}
