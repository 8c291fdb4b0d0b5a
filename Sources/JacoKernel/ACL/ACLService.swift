import Foundation

/// Consul's ACL model over the kernel's token store: tokens with policy and role links,
/// service identities and expiry; policies; roles. Messages follow Consul's wording, since
/// Consul clients show them as they are. Every state change is audited with the caller.
public final class ACLService: Sendable {
    let storage: any Storage
    let hasher: any SecretHasher
    let cache: VerificationCache
    let pipeline: WritePipeline
    let clock: @Sendable () -> Date
    /// The limits in force.
    public let settings: ACLSettings

    init(storage: any Storage, hasher: any SecretHasher, cache: VerificationCache, pipeline: WritePipeline, settings: ACLSettings, clock: @escaping @Sendable () -> Date) {
        self.storage = storage
        self.hasher = hasher
        self.cache = cache
        self.pipeline = pipeline
        self.settings = settings
        self.clock = clock
    }

    // MARK: - Reading tokens

    /// The token with `accessorID` in `namespace`, or nil (expired tokens count as gone).
    public func token(accessorID: String, namespace: String = "default") async throws -> Indexed<Token>? {
        try await storage.read { try await self.token(accessorID: accessorID, namespace: namespace, in: $0) }
    }

    /// One page of the tokens matching `filter`, in accessor-ID order after the cursor `after`;
    /// expired ones are left out. A page may hold fewer than `limit` matches (see ``ListPage``).
    public func tokens(matching filter: TokenFilter, after: String?, limit: Int = Paging.defaultPageSize) async throws -> ListPage<Indexed<Token>> {
        let now = clock()
        return try await recordPage(prefix: KeySpace.tokenPrefix, after: after, limit: limit) { (entry: Indexed<Token>) in
            let t = entry.record
            return !t.isExpired(at: now)
                && (filter.namespace == "*" || t.namespace == filter.namespace)
                && (filter.policyID.isEmpty || t.policyIDs.contains(filter.policyID))
                && (filter.roleID.isEmpty || t.roleIDs.contains(filter.roleID))
                && (filter.authMethod.isEmpty || t.authMethod == filter.authMethod)
                && (filter.serviceName.isEmpty || t.serviceIdentities.contains { $0.serviceName == filter.serviceName })
        }
    }

    /// Every token matching `filter` (all pages): for tests and small in-process stores.
    public func tokens(matching filter: TokenFilter) async throws -> [Indexed<Token>] {
        try await ListPage.collect { try await tokens(matching: filter, after: $0) }
    }

    /// The names of every policy and role by ID, to show links with both; from memory.
    public func linkNames() -> (policies: [String: String], roles: [String: String]) {
        cache.linkNames()
    }

    /// The store index bootstrap ran at, or nil before bootstrap (Consul's "reset index").
    public func bootstrapIndex() async throws -> StoreIndex? {
        try await storage.read { try await $0.get(KeySpace.bootstrapMarker)?.createIndex }
    }

    /// Consul's token hash: a digest of the fields that grant or describe rights, base64.
    public func hash(of token: Token) -> String {
        contentHash { w in
            w.write(token.description)
            w.write(token.policyIDs)
            w.write(token.roleIDs)
            w.write(token.serviceIdentities)
            w.write(token.local)
            w.write(token.expirationTime)
            w.write(token.allowsPrivileged)
        }
    }

    /// The same kind of hash for a policy.
    public func hash(of policy: Policy) -> String {
        contentHash { w in
            w.write(policy.name)
            w.write(policy.description)
            w.write(policy.rules)
            w.write(policy.datacenters)
        }
    }

    /// The same kind of hash for a role.
    public func hash(of role: Role) -> String {
        contentHash { w in
            w.write(role.name)
            w.write(role.description)
            w.write(role.policyIDs)
            w.write(role.serviceIdentities)
        }
    }

    /// The base64 content hash of the fields `fields` writes.
    private func contentHash(_ fields: (inout RecordWriter) -> Void) -> String {
        var w = RecordWriter(version: 1)
        fields(&w)
        return Data(hasher.contentHash(w.bytes).bytes).base64EncodedString()
    }

    // MARK: - Writing tokens

    /// Creates a token; the returned secret is the only copy. Needs acl:write.
    public func createToken(_ request: TokenRequest, by caller: Principal) async throws -> IssuedToken {
        try caller.require(.aclWrite)
        if !request.authMethod.isEmpty {
            throw JacoError(.validationFailed, "AuthMethod field is disallowed outside of login")
        }
        let now = clock()
        let expiration = try expirationTime(request, createdAt: now)
        let secret = request.secretID.isEmpty ? SecretFormat.generate() : request.secretID
        return try await pipeline.run { [self] snapshot in
            try await requireInitialized(snapshot)
            let accessorID = try await newAccessorID(request.accessorID, in: snapshot)
            if !request.secretID.isEmpty { try await checkSuppliedSecret(secret, in: snapshot) }
            let token = Token(
                accessorID: accessorID, identity: nil, secretDigest: hasher.digest(ofSecret: secret),
                description: request.description,
                policyIDs: try await resolve(request.policies, kind: .policy, in: snapshot),
                roleIDs: try await resolve(request.roles, kind: .role, in: snapshot),
                local: request.local, namespace: request.namespace, issuedAt: now, expirationTime: expiration,
                serviceIdentities: try normalized(request.serviceIdentities, local: request.local))
            return insertPlan(IssuedToken(token: token, secret: secret), caller: caller, payload: ["created_via": "consul-api"])
        }
    }

    /// Changes a token's description, links and service identities. The accessor ID, secret,
    /// local flag, auth method and expiration time cannot change. Needs acl:write.
    public func updateToken(accessorID: String, _ request: TokenRequest, by caller: Principal) async throws -> Token {
        try caller.require(.aclWrite)
        guard SecretFormat.isUUID(accessorID) else { throw JacoError(.validationFailed, "AccessorID is not a valid UUID") }
        if !request.accessorID.isEmpty && request.accessorID != accessorID {
            throw JacoError(.validationFailed, "Token Accessor ID in URL and payload do not match")
        }
        return try await pipeline.run { [self] snapshot in
            guard let existing = try await token(accessorID: accessorID, namespace: request.namespace, in: snapshot) else {
                throw JacoError(.notFound, "Cannot find token \"\(accessorID)\"")
            }
            var token = existing.record
            if !request.secretID.isEmpty && hasher.digest(ofSecret: request.secretID) != token.secretDigest {
                throw JacoError(.validationFailed, "Changing a token's SecretID is not permitted (SecretID is immutable)")
            }
            if request.local != token.local {
                throw JacoError(.validationFailed, "Cannot toggle local mode of \(accessorID) (Local is immutable)")
            }
            if !request.authMethod.isEmpty && request.authMethod != token.authMethod {
                throw JacoError(.validationFailed, "Cannot change AuthMethod of \(accessorID) (AuthMethod is immutable)")
            }
            if request.expirationTTL != 0 || (request.expirationTime != nil && request.expirationTime?.milliseconds != token.expirationTime?.milliseconds) {
                throw JacoError(.validationFailed, "Cannot change expiration time of \(accessorID) (ExpirationTime is immutable; ExpirationTTL applies on create only)")
            }
            token.description = request.description
            token.policyIDs = try await resolve(request.policies, kind: .policy, in: snapshot)
            token.roleIDs = try await resolve(request.roles, kind: .role, in: snapshot)
            token.serviceIdentities = try normalized(request.serviceIdentities, local: token.local)
            return PlannedWrite(
                transaction: Transaction(
                    conditions: [.modifiedAt(KeySpace.token(accessorID), existing.modifyIndex)],
                    writes: [.put(KeySpace.token(accessorID), token.encode())]),
                audit: [AuditRecord(identity: caller.auditName, type: AuditEventType.tokenUpdate, payload: linkPayload(token))],
                result: token, tokens: [token])
        }
    }

    /// Creates a new token with the same links, service identities, local flag, expiration
    /// time and privilege as `accessorID`, and `description` if given. Needs acl:write.
    public func cloneToken(accessorID: String, description: String?, namespace: String = "default", by caller: Principal) async throws -> IssuedToken {
        try caller.require(.aclWrite)
        guard SecretFormat.isUUID(accessorID) else { throw JacoError(.validationFailed, "AccessorID is not a valid UUID") }
        return try await pipeline.run { [self] snapshot in
            guard let source = try await token(accessorID: accessorID, namespace: namespace, in: snapshot)?.record else {
                throw JacoError(.notFound, "Cannot find token to clone")
            }
            if source.revokedAt != nil {
                throw JacoError(.validationFailed, "Cannot clone token \(accessorID): it was revoked")
            }
            let secret = SecretFormat.generate()
            var clone = source
            clone.accessorID = try await newAccessorID("", in: snapshot)
            clone.identity = nil
            clone.secretDigest = hasher.digest(ofSecret: secret)
            clone.issuedAt = clock()
            if let description, !description.isEmpty { clone.description = description }
            return insertPlan(IssuedToken(token: clone, secret: secret), caller: caller, payload: ["cloned_from": accessorID])
        }
    }

    /// Deletes a token and its indexes; false when there was none. The anonymous token and the
    /// caller's own token cannot be deleted. Needs acl:write.
    public func deleteToken(accessorID: String, namespace: String = "default", by caller: Principal) async throws -> Bool {
        try caller.require(.aclWrite)
        if accessorID == BuiltIn.anonymousTokenID {
            throw JacoError(.permissionDenied, "Delete operation not permitted on the anonymous token")
        }
        if accessorID == caller.accessorID {
            throw JacoError(.validationFailed, "Deletion of the request's authorization token is not permitted")
        }
        return try await runUnlessNothing(orElse: false) { [self] snapshot in
            guard let existing = try await token(accessorID: accessorID, namespace: namespace, in: snapshot, includingExpired: true) else {
                throw NothingToDelete()
            }
            return try await deletePlan([existing], type: AuditEventType.tokenDelete, caller: caller.auditName, result: true, in: snapshot)
        }
    }

    /// Deletes every token past its expiration time, each with a `token_expire` audit event.
    /// Returns how many it deleted. The kernel's reaper calls this.
    @discardableResult
    public func reapExpiredTokens() async throws -> Int {
        let expired = cache.expiredAccessorIDs(at: clock())
        guard !expired.isEmpty else { return 0 }
        var reaped = 0
        // Batches keep each transaction well inside any engine's per-transaction limits.
        for batch in stride(from: 0, to: expired.count, by: 16).map({ Array(expired[$0..<min($0 + 16, expired.count)]) }) {
            reaped += try await runUnlessNothing(orElse: 0) { [self] snapshot in
                var doomed: [Indexed<Token>] = []
                for accessorID in batch {
                    if let entry = try await token(accessorID: accessorID, namespace: "*", in: snapshot, includingExpired: true),
                        entry.record.isExpired(at: clock())
                    {
                        doomed.append(entry)
                    }
                }
                if doomed.isEmpty { throw NothingToDelete() }
                return try await deletePlan(doomed, type: AuditEventType.tokenExpire, caller: "jacod", result: doomed.count, in: snapshot)
            }
        }
        return reaped
    }

    /// Runs a write whose plan throws ``NothingToDelete`` when there is nothing to do; then
    /// nothing is written (not even an audit head) and `fallback` is returned.
    func runUnlessNothing<R: Sendable>(orElse fallback: R, _ plan: @escaping (any StorageSnapshot) async throws -> PlannedWrite<R>) async throws -> R {
        do {
            return try await pipeline.run(plan)
        } catch is NothingToDelete {
            return fallback
        }
    }

    // MARK: - Helpers

    struct NothingToDelete: Error {}

    enum LinkKind {
        case policy, role
        var prefix: String { self == .policy ? KeySpace.policyPrefix : KeySpace.rolePrefix }
        var namePrefix: String { self == .policy ? KeySpace.policyNamePrefix : KeySpace.roleNamePrefix }
        var noun: String { self == .policy ? "policy" : "role" }
    }

    func requireInitialized(_ snapshot: any StorageSnapshot) async throws {
        if try await snapshot.get(KeySpace.bootstrapMarker) == nil {
            throw JacoError(.clusterUninitialized, "The ACL system must be bootstrapped first: PUT /v1/acl/bootstrap or 'jaco cluster init'")
        }
    }

    func token(accessorID: String, namespace: String, in snapshot: any StorageSnapshot, includingExpired: Bool = false) async throws -> Indexed<Token>? {
        let key = KeySpace.token(accessorID)
        guard let stored = try await snapshot.get(key) else { return nil }
        let token = try Token(decoding: stored.bytes, key: key)
        if namespace != "*" && token.namespace != namespace { return nil }
        if !includingExpired && token.isExpired(at: clock()) { return nil }
        return Indexed(record: token, createIndex: stored.createIndex, modifyIndex: stored.modifyIndex)
    }

    /// Resolves links to IDs: names through the name index, IDs checked to exist; duplicates dropped.
    func resolve(_ links: [ACLLink], kind: LinkKind, in snapshot: any StorageSnapshot) async throws -> [String] {
        var ids: [String] = []
        for link in links {
            var id = link.id
            if id.isEmpty {
                guard !link.name.isEmpty else {
                    throw JacoError(.validationFailed, "A \(kind.noun) link needs an ID or a Name")
                }
                guard let stored = try await snapshot.get(kind.namePrefix + link.name) else {
                    throw JacoError(.validationFailed, "No such ACL \(kind.noun) with name \"\(link.name)\"")
                }
                id = String(decoding: stored.bytes, as: UTF8.self)
            } else if try await snapshot.get(kind.prefix + id) == nil {
                throw JacoError(.validationFailed, "No such ACL \(kind.noun) with ID \"\(EchoedInput.quote(id))\"")
            }
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    func normalized(_ identities: [ServiceIdentity], local: Bool) throws(JacoError) -> [ServiceIdentity] {
        var out: [ServiceIdentity] = []
        for identity in identities {
            try ServiceIdentity.validate(identity, local: local)
            if let i = out.firstIndex(where: { $0.serviceName == identity.serviceName }) {
                // Consul merges duplicates: the union of their datacenters.
                for dc in identity.datacenters where !out[i].datacenters.contains(dc) { out[i].datacenters.append(dc) }
            } else {
                out.append(identity)
            }
        }
        return out
    }

    private func expirationTime(_ request: TokenRequest, createdAt now: Date) throws(JacoError) -> Date? {
        var expiration = request.expirationTime
        if request.expirationTTL < 0 {
            throw JacoError(.validationFailed, "Token Expiration TTL '\(GoDuration.format(request.expirationTTL))' should be > 0")
        }
        if request.expirationTTL > 0 {
            if expiration != nil { throw JacoError(.validationFailed, "Token Expiration TTL and Expiration Time cannot both be set") }
            expiration = Date(milliseconds: now.addingTimeInterval(request.expirationTTL).milliseconds)
        }
        guard let expiration else { return nil }
        let expiresIn = expiration.timeIntervalSince(now)
        if expiresIn < 0 { throw JacoError(.validationFailed, "ExpirationTime cannot be before CreateTime") }
        if expiresIn > settings.maxExpirationTTL {
            throw JacoError(.validationFailed, "ExpirationTime cannot be more than \(GoDuration.format(settings.maxExpirationTTL)) in the future (was \(GoDuration.format(expiresIn)))")
        }
        if expiresIn < settings.minExpirationTTL {
            throw JacoError(.validationFailed, "ExpirationTime cannot be less than \(GoDuration.format(settings.minExpirationTTL)) in the future (was \(GoDuration.format(expiresIn)))")
        }
        return expiration
    }

    private func newAccessorID(_ requested: String, in snapshot: any StorageSnapshot) async throws -> String {
        if requested.isEmpty { return UUID().uuidString.lowercased() }
        if requested.lowercased().hasPrefix(BuiltIn.reservedIDPrefix) {
            throw JacoError(.validationFailed, "Invalid Token: AccessorID - UUIDs with the prefix \"\(BuiltIn.reservedIDPrefix)\" are reserved")
        }
        guard SecretFormat.isUUID(requested) else { throw JacoError(.validationFailed, "Invalid Token: AccessorID - not a valid UUID") }
        let asAccessor = try await snapshot.get(KeySpace.token(requested))
        let asSecret = try await snapshot.get(KeySpace.digest(hasher.digest(ofSecret: requested)))
        if asAccessor != nil || asSecret != nil {
            throw JacoError(.validationFailed, "Invalid Token: AccessorID is already in use")
        }
        return requested
    }

    private func checkSuppliedSecret(_ secret: String, in snapshot: any StorageSnapshot) async throws {
        if secret.lowercased().hasPrefix(BuiltIn.reservedIDPrefix) {
            throw JacoError(.validationFailed, "Invalid Token: SecretID - UUIDs with the prefix \"\(BuiltIn.reservedIDPrefix)\" are reserved")
        }
        if let problem = SecretFormat.problem(with: secret) {
            throw JacoError(.validationFailed, "Invalid Token: SecretID - not a valid UUID or Jaco token (\(problem))")
        }
        let asSecret = try await snapshot.get(KeySpace.digest(hasher.digest(ofSecret: secret)))
        let asAccessor = try await snapshot.get(KeySpace.token(secret))
        if asAccessor != nil || asSecret != nil {
            throw JacoError(.validationFailed, "Invalid Token: SecretID is already in use")
        }
    }

    func linkPayload(_ token: Token) -> [String: String] {
        var payload = ["accessor_id": token.accessorID, "policies": token.policyIDs.joined(separator: ","), "roles": token.roleIDs.joined(separator: ",")]
        if !token.serviceIdentities.isEmpty { payload["service_identities"] = token.serviceIdentities.map(\.serviceName).joined(separator: ",") }
        return payload
    }

    func insertPlan(_ issued: IssuedToken, caller: Principal, payload extra: [String: String]) -> PlannedWrite<IssuedToken> {
        let token = issued.token
        var payload = linkPayload(token).merging(extra) { $1 }
        if let expiry = token.expirationTime { payload["expires_at"] = expiry.rfc3339 }
        return PlannedWrite(
            transaction: Transaction(
                conditions: [.absent(KeySpace.token(token.accessorID)), .absent(KeySpace.digest(token.secretDigest))],
                writes: [
                    .put(KeySpace.token(token.accessorID), token.encode()),
                    .put(KeySpace.digest(token.secretDigest), Data(token.accessorID.utf8)),
                ]),
            audit: [AuditRecord(identity: caller.auditName, type: AuditEventType.tokenIssue, payload: payload)],
            result: issued, tokens: [token])
    }

    /// Deletes tokens with their indexes: the digests (a rotation's previous one too), the
    /// last-used time, a login token's entry under its auth method, and the identity when it
    /// still names this token (a revoked identity may have been issued again since).
    func deletePlan<R>(_ entries: [Indexed<Token>], type: String, caller: String, result: R, in snapshot: any StorageSnapshot) async throws -> PlannedWrite<R> {
        var transaction = Transaction(writes: [])
        var audit: [AuditRecord] = []
        for entry in entries {
            let token = entry.record
            transaction.conditions.append(.modifiedAt(KeySpace.token(token.accessorID), entry.modifyIndex))
            transaction.writes.append(.delete(KeySpace.token(token.accessorID)))
            transaction.writes.append(.delete(KeySpace.digest(token.secretDigest)))
            if let rotation = token.rotation { transaction.writes.append(.delete(KeySpace.digest(rotation.previousDigest))) }
            transaction.writes.append(.delete(KeySpace.lastUsed(token.accessorID)))
            if !token.authMethod.isEmpty { transaction.writes.append(.delete(KeySpace.loginToken(token.accessorID, of: token.authMethod))) }
            if let identity = token.identity, let holder = try await snapshot.get(KeySpace.identity(identity)),
                String(decoding: holder.bytes, as: UTF8.self) == token.accessorID
            {
                transaction.conditions.append(.modifiedAt(KeySpace.identity(identity), holder.modifyIndex))
                transaction.writes.append(.delete(KeySpace.identity(identity)))
            }
            var payload = ["accessor_id": token.accessorID]
            if let identity = token.identity { payload["identity"] = identity }
            audit.append(AuditRecord(identity: caller, type: type, payload: payload))
        }
        return PlannedWrite(transaction: transaction, audit: audit, result: result)
    }
}
