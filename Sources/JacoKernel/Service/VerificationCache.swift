import Foundation
import Synchronization

/// The in-memory digest → principal map that verification reads. It does no I/O: it is loaded
/// at start and kept current from the store's change feed. It also holds the policies' `acl`
/// levels (so rights follow policy edits at once), the expiry times the reaper needs, and the
/// per-resource indexes that blocking queries wait on.
public final class VerificationCache: Sendable {
    /// One cached secret: the principal it verifies as and what a verify must check. The tables
    /// share it (one object per secret), and the entry of a token's current secret is the
    /// token's use record; a previous secret's uses are recorded on the current one. Compact on
    /// purpose: a million tokens are a million of these.
    fileprivate class Entry: UseRecord, @unchecked Sendable {  // `principal` only under the cache's lock
        /// Who the secret verifies as; replaced in place when policies or roles change. Read and
        /// written only under the cache's lock, so the run-time exclusivity check (a call on
        /// every verify) is left out.
        @exclusivity(unchecked) final var principal: Principal
        final let digest: Digest256
        // Times as seconds since 2001, NaN for none (a `Date?` takes 16 bytes, this 8). With the
        // use record's word, the entry is 88 bytes: glibc's 96-byte size class.
        private final let revoked: Double
        private final let expires: Double
        final let issuedAt: Date

        init(principal: Principal, digest: Digest256, issuedAt: Date, revokedAt: Date?, expiresAt: Date?) {
            self.principal = principal
            self.digest = digest
            self.issuedAt = issuedAt
            revoked = revokedAt?.timeIntervalSinceReferenceDate ?? .nan
            expires = expiresAt?.timeIntervalSinceReferenceDate ?? .nan
        }

        /// Whether a verify must look at the clock or a revocation (otherwise it always passes; a
        /// previous secret always has an end). Computed: a stored flag would cost a size class.
        @inline(__always) final var needsCheck: Bool { !(revoked.isNaN && expires.isNaN) }

        final var revokedAt: Date? { revoked.isNaN ? nil : Date(timeIntervalSinceReferenceDate: revoked) }
        final var expiresAt: Date? { expires.isNaN ? nil : Date(timeIntervalSinceReferenceDate: expires) }
        /// Set for a rotated token's previous secret: when that rotation happened.
        final var rotatedAt: Date? { (self as? PreviousSecretEntry)?.rotation }
    }

    /// A rotated token's previous secret, while its grace lasts (few: a subclass, so that every
    /// other entry does without the field).
    fileprivate final class PreviousSecretEntry: Entry, @unchecked Sendable {
        /// When the rotation happened.
        let rotation: Date

        init(principal: Principal, digest: Digest256, issuedAt: Date, revokedAt: Date?, endsAt: Date, rotatedAt: Date) {
            rotation = rotatedAt
            super.init(principal: principal, digest: digest, issuedAt: issuedAt, revokedAt: revokedAt, expiresAt: endsAt)
        }
    }

    fileprivate struct Blocker: Sendable {
        var id: UInt64
        var resource: ACLResource
        var after: StoreIndex
        var continuation: CheckedContinuation<Void, Never>
    }

    fileprivate struct State: Sendable {
        /// Every cached secret, current and previous, by digest.
        var byDigest = TaggedTable<Entry>()
        /// Each token's current secret, by accessor ID.
        var byAccessor = TaggedTable<Entry>()
        /// A rotated token's previous digest, while it is kept.
        var previousDigestByAccessor: [AccessorID: Digest256] = [:]
        var expiries: [AccessorID: Date] = [:]
        /// When each rotation's grace ends, by accessor ID (for the finisher).
        var graceEnds: [AccessorID: Date] = [:]
        /// Policy and role ID lists, shared by the tokens that have the same one.
        var linkLists = LinkListInterner()
        /// The last token's shared lists and their level: tokens loaded one after another mostly
        /// have the same links, and comparing lists is cheaper than hashing them. Cleared when
        /// a policy or role changes.
        var lastLinks: Links?
        /// Each identity's newest token (the one `ti/` names once writes settle).
        var identityHolders = TaggedTable<Entry>()

        /// The current secret's entry of the token with `accessorID`.
        func entry(accessorID: String) -> Entry? { entry(accessor: AccessorID(accessorID)) }

        /// The current secret's entry of the token with `accessor`.
        func entry(accessor: AccessorID) -> Entry? {
            byAccessor.first(tag: accessor.tag) { $0.principal.accessor == accessor }
        }

        /// The entry of `identity`'s newest token.
        func holder(of identity: String) -> Entry? {
            identityHolders.first(tag: tag(identity)) { $0.principal.identity == identity }
        }
        /// Expired tokens the reaper deleted: who and when, so their secrets still fail
        /// `token_expired` with the time rather than as unknown (bounded; lost on restart).
        var expiredTombstones: [Digest256: (name: String, expiredAt: Date)] = [:]
        var table = ACLTable()
        var applied: StoreIndex = 0
        var resourceIndex: [ACLResource: StoreIndex] = [:]
        var waiters: [(index: StoreIndex, continuation: CheckedContinuation<Void, Never>)] = []
        var blockers: [Blocker] = []
        var nextBlockerID: UInt64 = 0
    }

    /// A token's shared policy and role lists and the `acl` level they grant.
    fileprivate struct Links: Sendable {
        var policyIDs: [String]
        var roleIDs: [String]
        var level: ACLLevel
    }

    /// One key's new value (nil: deleted), already decoded where it matters.
    private enum Update {
        case token(accessorID: String, CachedToken?)
        case lastUsed(accessorID: String, seconds: Int64)
        case policy(id: String, Policy?)
        case role(id: String, Role?)
    }

    /// The hasher's secret digest, bound once: calling through the existential on every verify
    /// copied it first.
    private let digestOfSecret: @Sendable (UnsafeRawBufferPointer) -> Digest256
    private let state = Mutex(State())

    /// Creates an empty cache that hashes presented secrets with `hasher`.
    public init(hasher: any SecretHasher) {
        digestOfSecret = { bytes in hasher.digest(ofSecret: bytes) }
    }

    /// The store index the cache reflects.
    public var appliedIndex: StoreIndex { state.withLock { $0.applied } }

    /// Number of blocking queries waiting for a change.
    public var blockingQueryCount: Int { state.withLock { $0.blockers.count } }

    /// Number of tokens (active, revoked or expired) in the cache.
    public var count: Int { state.withLock { $0.byDigest.count } }

    /// What a verify found under the lock.
    private enum Lookup {
        /// A token that can be neither revoked nor expired: verified (its use recorded).
        case verified(Principal)
        /// A token with a revocation, an expiry or a grace end, and its principal (read under
        /// the lock): checked against the clock off the lock.
        case needsCheck(Entry, Principal)
        /// No token has the digest.
        case miss(Digest256)
        /// The secret's shape is wrong; not looked up.
        case malformed(String)
    }

    /// An entry checked against revocation and the clock; the error is worded off the lock.
    private enum Verdict {
        case valid(Principal)
        case revoked(name: String, at: Date)
        case previousSecretEnded(name: String, rotatedAt: Date, endedAt: Date)
        case expired(name: String, at: Date)

        var result: Result<Principal, JacoError> {
            switch self {
            case .valid(let principal):
                .success(principal)
            case .revoked(let name, let at):
                .failure(JacoError(.tokenRevoked, "the token for '\(name)' was revoked at \(at.rfc3339); ask an operator for a new one"))
            case .previousSecretEnded(let name, let rotatedAt, let endedAt):
                .failure(JacoError(.tokenRevoked, "this is the previous secret of the token for '\(name)': it was rotated at \(rotatedAt.rfc3339) and the old secret stopped working at \(endedAt.rfc3339); use the new secret"))
            case .expired(let name, let at):
                .failure(VerificationCache.expired(name, at: at))
            }
        }
    }

    /// Verifies a presented secret: the principal, or `token_invalid`, `token_revoked`, `token_expired`.
    public func verify(secret: String) throws(JacoError) -> Principal {
        var secret = secret
        let lookup: Lookup = secret.withUTF8 { bytes in
            if let problem = SecretFormat.shapeProblem(of: bytes) { return .malformed(problem) }
            let digest = digestOfSecret(UnsafeRawBufferPointer(bytes))
            // The common case takes one reference, the principal's, and no clock reading.
            return state.withLock { s in
                s.byDigest.withFirst(tag: digest.firstWord) { entry -> Lookup? in
                    guard entry.digest == digest else { return nil }
                    guard entry.needsCheck else {
                        entry.record()
                        return .verified(entry.principal)
                    }
                    return .needsCheck(copy entry, entry.principal)
                }
            } ?? .miss(digest)
        }
        switch lookup {
        case .verified(let principal):
            return principal
        case .needsCheck(let entry, let principal):
            let verdict = Self.check(entry, principal)
            if case .valid = verdict {
                if entry.rotatedAt == nil {
                    entry.record()
                } else {
                    // A previous secret's use is the token's: recorded on its current entry.
                    state.withLock { $0.entry(accessor: principal.accessor) }?.record()
                }
            }
            return try verdict.result.get()
        case .miss(let digest):
            // Say why, naming a typo when the checksum shows one.
            if let tombstone = state.withLock({ $0.expiredTombstones[digest] }) {
                throw Self.expired(tombstone.name, at: tombstone.expiredAt)
            }
            throw Self.invalid(secret.withUTF8 { SecretFormat.problem(with: $0) } ?? "no token has this secret")
        case .malformed(let problem):
            throw Self.invalid(problem)
        }
    }

    /// The principal of the token with `accessorID`, if it exists and is neither revoked nor
    /// expired (e.g. the anonymous token, for callers that present no secret).
    public func principal(accessorID: String) -> Principal? {
        let verdict = state.withLock { s in s.entry(accessorID: accessorID).map { Self.check($0, $0.principal) } }
        guard case .valid(let principal)? = verdict else { return nil }
        return principal
    }

    /// Policy and role names by ID, as of the applied index.
    public func linkNames() -> (policies: [String: String], roles: [String: String]) {
        state.withLock { ($0.table.policyNames, $0.table.roleNames) }
    }

    /// The accessor IDs of tokens whose rotation grace ended at or before `now`.
    public func finishedRotationAccessorIDs(at now: Date) -> [String] {
        state.withLock { s in s.graceEnds.filter { $0.value <= now }.map(\.key) }.map(\.text).sorted()
    }

    /// The last time a token verified, as this daemon knows it (its own uses, and the newest
    /// time in the store); nil when never.
    public func lastUsed(accessorID: String) -> Date? {
        state.withLock { $0.entry(accessorID: accessorID)?.newest }.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// Fills in each summary's last use (this daemon's own, or the newest in the store) and
    /// whether a newer token holds its identity, under one lock for the whole page: a listing
    /// of a million tokens took two locks a row, beside the verifies that need the same lock.
    public func annotate(_ summaries: inout [TokenSummary]) {
        // Parsed and hashed before the lock is taken.
        let keys = summaries.map { (accessor: AccessorID($0.accessorID), identity: $0.identity.map { ($0, tag($0)) }) }
        let facts = state.withLock { s in
            keys.map { key -> (lastUsed: Int64?, superseded: Bool) in
                let holder = key.identity.flatMap { identity, tag in s.identityHolders.first(tag: tag) { $0.principal.identity == identity } }
                return (s.entry(accessor: key.accessor)?.newest, holder.map { $0.principal.accessor != key.accessor } ?? false)
            }
        }
        for i in summaries.indices {
            summaries[i].lastUsed = facts[i].lastUsed.map { Date(timeIntervalSince1970: TimeInterval($0)) }
            summaries[i].superseded = facts[i].superseded
        }
    }

    /// Use times not yet written to the store, by accessor ID (for the last-used flusher).
    func unflushedUses() -> [(accessorID: String, use: UseRecord)] {
        state.withLock { s in
            var uses: [(accessorID: String, use: UseRecord)] = []
            s.byAccessor.forEach { entry in
                if entry.needsFlush { uses.append((entry.principal.accessorID, entry)) }
            }
            return uses
        }
    }

    /// The accessor IDs of tokens whose expiration time is at or before `now`.
    public func expiredAccessorIDs(at now: Date) -> [String] {
        state.withLock { s in s.expiries.filter { $0.value <= now }.map(\.key) }.map(\.text).sorted()
    }

    /// The index of the last change to `resource` the cache has seen.
    public func index(of resource: ACLResource) -> StoreIndex {
        state.withLock { $0.resourceIndex[resource] ?? $0.applied }
    }

    /// Waits until `resource` changes past `index`, at most `timeout` (or until the task is
    /// cancelled), and returns the resource's index then. Woken by the change feed.
    public func waitForChange(of resource: ACLResource, after index: StoreIndex, timeout: Duration) async -> StoreIndex {
        let id = state.withLock { s in
            s.nextBlockerID += 1
            return s.nextBlockerID
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.release(blocker: id)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if (s.resourceIndex[resource] ?? s.applied) > index || Task.isCancelled { return true }
                    s.blockers.append(Blocker(id: id, resource: resource, after: index, continuation: continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            release(blocker: id)
        }
        return self.index(of: resource)
    }

    private func release(blocker id: UInt64) {
        let continuation = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let i = s.blockers.firstIndex(where: { $0.id == id }) else { return nil }
            return s.blockers.remove(at: i).continuation
        }
        continuation?.resume()
    }

    private static func invalid(_ problem: String) -> JacoError {
        JacoError(.tokenInvalid, "\(problem); check the token, or ask an operator for a new one")
    }

    /// Checks `entry`, whose principal is `principal`, against its revocation and the clock.
    private static func check(_ entry: Entry, _ principal: Principal) -> Verdict {
        guard entry.needsCheck else { return .valid(principal) }
        if let revokedAt = entry.revokedAt { return .revoked(name: principal.auditName, at: revokedAt) }
        if let expiresAt = entry.expiresAt, expiresAt <= Date() {
            if let rotatedAt = entry.rotatedAt {
                return .previousSecretEnded(name: principal.auditName, rotatedAt: rotatedAt, endedAt: expiresAt)
            }
            return .expired(name: principal.auditName, at: expiresAt)
        }
        return .valid(principal)
    }

    fileprivate static func expired(_ name: String, at time: Date) -> JacoError {
        JacoError(.tokenExpired, "the token for '\(name)' expired at \(time.rfc3339); ask an operator for a new one")
    }

    /// The most deleted expired tokens remembered for their error message.
    static let maxTombstones = 10_000

    /// New contents built off the lock, a page of tokens at a time, then swapped in whole by
    /// ``install(_:at:)``: verifies see the old contents until then, and no step holds every
    /// decoded token record at once.
    struct Loader: Sendable {
        fileprivate var state = State()

        /// Starts from `policies` and `roles` (tokens' rights are resolved through them).
        init(policies: [Policy], roles: [Role]) {
            for policy in policies { state.table.setPolicy(id: policy.id, policy) }
            for role in roles { state.table.setRole(id: role.id, role) }
        }

        /// How many tokens the load will add, when known.
        private var expectedTokens: Int?

        /// Sizes the tables for `count` tokens.
        mutating func expect(tokens count: Int) {
            expectedTokens = count
            state.byDigest.reserve(count)
            state.byAccessor.reserve(count)
        }

        /// Adds a page of tokens.
        mutating func add(_ page: [CachedToken]) {
            let first = state.byAccessor.count == 0
            for token in page { VerificationCache.insert(token, into: &state) }
            // Identities: sized after the first page, by the share of its tokens that had one.
            if first, let expected = expectedTokens, !page.isEmpty {
                state.identityHolders.reserve(expected * state.identityHolders.count / page.count)
            }
        }

        /// Adds stored last-used times (seconds since 1970) by accessor ID.
        mutating func addLastUsed(_ times: [(accessorID: String, seconds: Int64)]) {
            for (accessorID, seconds) in times { state.entry(accessorID: accessorID)?.stored(seconds) }
        }
    }

    /// Replaces the contents with what `loader` gathered, as of store index `index`.
    func install(_ loader: consuming Loader, at index: StoreIndex) {
        var fresh = loader.state
        let ready = state.withLock { s in
            // Uses this daemon saw and has not written yet survive the reload.
            s.byAccessor.forEach { old in fresh.entry(accessor: old.principal.accessor)?.absorb(old) }
            fresh.applied = s.applied
            fresh.waiters = s.waiters
            fresh.blockers = s.blockers
            fresh.nextBlockerID = s.nextBlockerID
            s = fresh
            for resource in ACLResource.allCases { s.resourceIndex[resource] = index }
            return Self.advance(&s, to: index, touched: Set(ACLResource.allCases))
        }
        for continuation in ready { continuation.resume() }
    }

    /// Applies one committed change from the feed; changes already applied are skipped.
    /// Returns the revocation times of tokens this change revoked (for the propagation metric).
    @discardableResult
    func apply(_ change: Change) -> [Date] {
        if change.index <= appliedIndex { return [] }
        let updates = change.mutations.compactMap { Self.decode(key: $0.key, value: $0.value, tokens: [:]) }
        let touched = Set(change.mutations.compactMap { ACLResource(key: $0.key) })
        let (ready, revocations) = state.withLock { s -> ([CheckedContinuation<Void, Never>], [Date]) in
            guard change.index > s.applied else { return ([], []) }
            let revocations = updates.compactMap { update -> Date? in
                guard case .token(let accessorID, let token?) = update, let revokedAt = token.revokedAt else { return nil }
                guard let before = s.entry(accessorID: accessorID) else { return nil }
                return before.revokedAt == nil ? revokedAt : nil
            }
            Self.apply(updates, to: &s)
            return (Self.advance(&s, to: change.index, touched: touched), revocations)
        }
        for continuation in ready { continuation.resume() }
        return revocations
    }

    /// Takes this process's own commit at `index` if it is the next change in line (or already
    /// applied); false when earlier changes are still to come from the feed. `tokens` are the
    /// token records the transaction puts, already decoded.
    func applyCommitted(at index: StoreIndex, transaction: Transaction, tokens: [Token]) -> Bool {
        if state.withLock({ $0.applied >= index }) { return true }
        let byAccessor = Dictionary(tokens.map { ($0.accessorID, $0) }, uniquingKeysWith: { _, last in last })
        let updates = transaction.writes.compactMap { write -> Update? in
            switch write {
            case .put(let key, let value): Self.decode(key: key, value: value, tokens: byAccessor)
            case .delete(let key): Self.decode(key: key, value: nil, tokens: byAccessor)
            }
        }
        let touched = Set(transaction.writes.compactMap { ACLResource(key: $0.key) })
        let (taken, ready) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
            if s.applied >= index { return (true, []) }
            guard s.applied == index - 1 else { return (false, []) }
            Self.apply(updates, to: &s)
            return (true, Self.advance(&s, to: index, touched: touched))
        }
        for continuation in ready { continuation.resume() }
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

    private static func decode(key: String, value: Data?, tokens: [String: Token]) -> Update? {
        // A record that does not decode cannot verify or grant; treat it as gone.
        if key.hasPrefix(KeySpace.tokenPrefix) {
            let accessorID = String(key.dropFirst(KeySpace.tokenPrefix.count))
            return .token(accessorID: accessorID, value.flatMap { tokens[accessorID].map(CachedToken.init) ?? (try? CachedToken(decoding: $0, key: key)) })
        }
        if key.hasPrefix(KeySpace.lastUsedPrefix) {
            guard let value, let seconds = LastUsedCodec.decode(value) else { return nil }
            return .lastUsed(accessorID: String(key.dropFirst(KeySpace.lastUsedPrefix.count)), seconds: seconds)
        }
        if key.hasPrefix(KeySpace.policyPrefix) {
            return .policy(id: String(key.dropFirst(KeySpace.policyPrefix.count)), value.flatMap { try? Policy(decoding: $0, key: key) })
        }
        if key.hasPrefix(KeySpace.rolePrefix) {
            return .role(id: String(key.dropFirst(KeySpace.rolePrefix.count)), value.flatMap { try? Role(decoding: $0, key: key) })
        }
        return nil
    }

    private static func apply(_ updates: [Update], to s: inout State) {
        var tableChanged = false
        for update in updates {
            switch update {
            case .policy(let id, let policy):
                s.table.setPolicy(id: id, policy)
                tableChanged = true
                s.lastLinks = nil
            case .role(let id, let role):
                s.table.setRole(id: id, role)
                tableChanged = true
                s.lastLinks = nil
            case .token, .lastUsed: break
            }
        }
        if tableChanged {
            // Rights follow policy and role edits at once: recompute every principal.
            let table = s.table
            s.byDigest.forEach { $0.principal = table.refreshed($0.principal) }
        }
        for update in updates {
            switch update {
            case .token(let accessorID, let token):
                let accessor = AccessorID(accessorID)
                let old = s.byAccessor.remove(tag: accessor.tag) { $0.principal.accessor == accessor }
                if let old {
                    if token == nil, let expiry = old.expiresAt, expiry <= Date() {
                        if s.expiredTombstones.count >= maxTombstones { s.expiredTombstones.removeAll(keepingCapacity: true) }
                        s.expiredTombstones[old.digest] = (old.principal.auditName, expiry)
                    }
                    s.byDigest.remove(tag: old.digest.firstWord) { $0 === old }
                    if let identity = old.principal.identity { s.identityHolders.remove(tag: tag(identity)) { $0 === old } }
                }
                if let previous = s.previousDigestByAccessor.removeValue(forKey: accessor) {
                    s.byDigest.remove(tag: previous.firstWord) { $0.digest == previous }
                }
                s.expiries.removeValue(forKey: accessor)
                s.graceEnds.removeValue(forKey: accessor)
                if let token {
                    let entry = insert(token, into: &s)
                    if let old { entry.absorb(old) }  // a new version of a token keeps its use times
                }
            case .lastUsed, .policy, .role: break
            }
        }
        // Times after tokens: a change that writes both (a restore) lists `lu/` keys first.
        for case .lastUsed(let accessorID, let seconds) in updates {
            s.entry(accessorID: accessorID)?.stored(seconds)
        }
    }

    /// Adds `token`'s entries (its current secret's, and its previous one's while that is kept);
    /// returns the current one.
    @discardableResult
    private static func insert(_ token: CachedToken, into s: inout State) -> Entry {
        let links: Links
        if let last = s.lastLinks, last.policyIDs == token.policyIDs, last.roleIDs == token.roleIDs {
            links = last
        } else {
            let policyIDs = s.linkLists.intern(token.policyIDs), roleIDs = s.linkLists.intern(token.roleIDs)
            links = Links(policyIDs: policyIDs, roleIDs: roleIDs, level: s.table.level(policyIDs: policyIDs, roleIDs: roleIDs))
            s.lastLinks = links
        }
        let accessor = token.accessor
        let principal = Principal(
            accessor: accessor, identity: token.identity, policyIDs: links.policyIDs, roleIDs: links.roleIDs,
            allowsPrivileged: token.allowsPrivileged, acl: links.level)
        let digest = token.secretDigest
        let entry = Entry(principal: principal, digest: digest, issuedAt: token.issuedAt, revokedAt: token.revokedAt, expiresAt: token.expirationTime)
        s.byDigest.set(entry, tag: digest.firstWord) { $0.digest == digest }
        s.byAccessor.set(entry, tag: accessor.tag) { $0.principal.accessor == accessor }
        if let expiry = token.expirationTime { s.expiries[accessor] = expiry }
        if let rotation = token.rotation {
            // The previous secret verifies as the same principal until the grace ends (or the
            // token expires first).
            let end = token.expirationTime.map { min($0, rotation.graceEndsAt) } ?? rotation.graceEndsAt
            let previous = rotation.previousDigest
            s.byDigest.set(
                PreviousSecretEntry(principal: principal, digest: previous, issuedAt: token.issuedAt, revokedAt: token.revokedAt, endsAt: end, rotatedAt: rotation.rotatedAt),
                tag: previous.firstWord) { $0.digest == previous }
            s.previousDigestByAccessor[accessor] = previous
            s.graceEnds[accessor] = rotation.graceEndsAt
        }
        if let identity = token.identity {
            // The newest token holds the identity (a deleted holder leaves it, see `apply`).
            let holder = s.holder(of: identity)
            if holder == nil || holder!.issuedAt <= token.issuedAt || holder!.principal.accessor == accessor {
                s.identityHolders.set(entry, tag: tag(identity)) { $0.principal.identity == identity }
            }
        }
        return entry
    }

    private static func advance(_ s: inout State, to index: StoreIndex, touched: Set<ACLResource>) -> [CheckedContinuation<Void, Never>] {
        s.applied = max(s.applied, index)
        for resource in touched { s.resourceIndex[resource] = max(s.resourceIndex[resource] ?? 0, index) }
        var ready: [CheckedContinuation<Void, Never>] = []
        s.waiters.removeAll { waiter in
            guard waiter.index <= s.applied else { return false }
            ready.append(waiter.continuation)
            return true
        }
        if !touched.isEmpty {
            let indexes = s.resourceIndex
            s.blockers.removeAll { blocker in
                guard (indexes[blocker.resource] ?? 0) > blocker.after else { return false }
                ready.append(blocker.continuation)
                return true
            }
        }
        return ready
    }
}

/// The table tag of a string key: its hash value (seeded per process; the tables live in memory).
private func tag(_ key: String) -> UInt64 { UInt64(truncatingIfNeeded: key.hashValue) }
