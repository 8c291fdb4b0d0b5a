import Foundation
import Synchronization

/// The in-memory digest → principal map that verification reads. It does no I/O: it is loaded
/// at start and kept current from the store's change feed. It also holds the policies' `acl`
/// levels (so rights follow policy edits at once), the expiry times the reaper needs, and the
/// per-resource indexes that blocking queries wait on.
public final class VerificationCache: Sendable {
    struct Blocker: Sendable {
        var id: UInt64
        var resource: ACLResource
        var after: StoreIndex
        var continuation: CheckedContinuation<Void, Never>
    }

    /// Everything the cache holds, behind one lock.
    struct State: Sendable {
        /// Every cached secret, current and previous, by digest.
        var byDigest = TaggedTable<Entry>()
        /// Each token's current secret, by accessor ID.
        var byAccessor = ObjectTable<AccessorKey>()
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
        var identityHolders = ObjectTable<IdentityKey>()

        /// The current secret's entry of the token with `accessorID`.
        func entry(accessorID: String) -> Entry? { entry(accessor: AccessorID(accessorID)) }

        /// The current secret's entry of the token with `accessor`.
        func entry(accessor: AccessorID) -> Entry? {
            byAccessor.first(tag: accessor.tag) { $0.principal.accessor == accessor }
        }

        /// The entry of `identity`'s newest token (`tag`: the identity's ``Swift/String/tableTag``).
        func holder(of identity: String, tag: UInt64) -> Entry? {
            identityHolders.first(tag: tag) { $0.principal.identity == identity }
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
        /// Successful verifies that needed no check, counted under the lock they hold anyway.
        var fastPathVerified = 0
    }

    /// A token's shared policy and role lists and the `acl` level they grant.
    struct Links: Sendable {
        var policyIDs: [String]
        var roleIDs: [String]
        var level: ACLLevel
    }

    /// One key's new value (nil: deleted), already decoded where it matters.
    enum Update {
        case token(accessorID: String, CachedToken?)
        case lastUsed(accessorID: String, seconds: Int64)
        case policy(id: String, Policy?)
        case role(id: String, Role?)
    }

    /// The hasher's secret digest, bound once: calling through the existential on every verify
    /// copied it first.
    private let digestOfSecret: @Sendable (UnsafeRawBufferPointer) -> Digest256
    /// The contents; the read side is in this file, the write side (loads, the change feed) in
    /// VerificationCache+Updates.swift.
    let state = CacheLock(State())
    /// Successful verifies of tokens that needed a check against the clock (the others are
    /// counted in the state, under the lock they already hold).
    private let slowPathVerified = Atomic<Int>(0)

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
        // Read in place (a copy of the string for `withUTF8` cost a reference count).
        // Closures, not `lookUp` itself: a method reference holds a reference to the cache.
        let lookup = secret.utf8.withContiguousStorageIfAvailable { lookUp($0) } ?? {
            var copy = secret
            return copy.withUTF8 { lookUp($0) }
        }()
        switch lookup {
        case .verified(let principal):
            return principal
        case .needsCheck(let entry, let principal):
            let verdict = Self.check(entry, principal)
            if case .valid = verdict {
                slowPathVerified.add(1, ordering: .relaxed)
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
            var copy = secret
            throw Self.invalid(copy.withUTF8 { SecretFormat.problem(with: $0) } ?? "no token has this secret")
        case .malformed(let problem):
            throw Self.invalid(problem)
        }
    }

    /// Finds the entry of a secret's bytes; the common case (a token that can be neither revoked
    /// nor expired) is verified and its use recorded under the lock.
    @inline(__always)
    private func lookUp(_ bytes: UnsafeBufferPointer<UInt8>) -> Lookup {
        if !SecretFormat.hasGeneratedShape(bytes), let problem = SecretFormat.shapeProblem(of: bytes) { return .malformed(problem) }
        let digest = digestOfSecret(UnsafeRawBufferPointer(bytes))
        let now = UseClock.now
        // The common case takes one reference, the principal's, and no clock call: the entry is
        // only borrowed (nothing opaque is called under the lock), and the success is counted
        // in the locked state rather than by an atomic of its own.
        return state.withLock { s in
            let found = s.byDigest.withFirst(tag: digest.firstWord) { entry -> Lookup? in
                guard entry.digest == digest else { return nil }
                guard entry.needsCheck else {
                    entry.record(at: now)
                    return .verified(entry.principal)
                }
                return .needsCheck(copy entry, entry.principal)
            }
            // Outside the table's closure: changing the state while the table is borrowed
            // would copy (retain) its storage.
            if case .verified? = found { s.fastPathVerified &+= 1 }
            return found
        } ?? .miss(digest)
    }

    /// Successful verifies so far (for `jaco_verifications_total{outcome="ok"}`, which the
    /// metrics' refresh brings up to date).
    public var verifiedCount: Int {
        state.withLock { $0.fastPathVerified } &+ slowPathVerified.load(ordering: .relaxed)
    }

    /// The principal of the token with `accessorID`, if it exists and is neither revoked nor
    /// expired (e.g. the anonymous token, for callers that present no secret).
    public func principal(accessorID: String) -> Principal? {
        let accessor = AccessorID(accessorID)
        let verdict = state.withLock { s in s.entry(accessor: accessor).map { Self.check($0, $0.principal) } }
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
        let accessor = AccessorID(accessorID)
        return state.withLock { $0.entry(accessor: accessor)?.newest }.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// ``lastUsed(accessorID:)`` for a page of tokens, under one lock (a listing of a million
    /// took a lock a row, beside the verifies that need the same lock).
    public func lastUsed(accessorIDs: [String]) -> [Date?] {
        let accessors = accessorIDs.map(AccessorID.init)
        let times = state.withLock { s in
            let byAccessor = s.byAccessor  // a local copy: see `annotate`
            return accessors.map { accessor in byAccessor.first(tag: accessor.tag) { $0.principal.accessor == accessor }?.newest }
        }
        return times.map { $0.map { Date(timeIntervalSince1970: TimeInterval($0)) } }
    }

    /// Fills in each summary's last use (this daemon's own, or the newest in the store) and
    /// whether a newer token holds its identity, under one lock for the whole page: a listing
    /// of a million tokens took two locks a row, beside the verifies that need the same lock.
    public func annotate(_ summaries: inout [TokenSummary]) {
        // Parsed and hashed before the lock is taken.
        let keys = summaries.map { (accessor: AccessorID($0.accessorID), identity: $0.identity.map { ($0, $0.tableTag) }) }
        let facts = state.withLock { s in
            // Local copies of the two tables (a reference count each): immutable for the
            // compiler, so a lookup does not reload the state's storage for every row.
            let (byAccessor, holders) = (s.byAccessor, s.identityHolders)
            return keys.map { key -> (lastUsed: Int64?, superseded: Bool) in
                let holder = key.identity.flatMap { identity, tag in holders.first(tag: tag) { $0.principal.identity == identity } }
                let entry = byAccessor.first(tag: key.accessor.tag) { $0.principal.accessor == key.accessor }
                return (entry?.newest, holder.map { $0.principal.accessor != key.accessor } ?? false)
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
}

extension String {
    /// The cache tables' tag for a string key: its hash value (seeded per process; the tables
    /// live in memory).
    var tableTag: UInt64 { UInt64(truncatingIfNeeded: hashValue) }
}
