import Foundation
import Synchronization

/// The write side of the verification cache: loading it whole, and keeping it current from the
/// store's change feed and this process's own commits.
extension VerificationCache {
    /// The most deleted expired tokens remembered for their error message.
    static let maxTombstones = 10_000

    /// New contents built off the lock, a page of tokens at a time, then swapped in whole by
    /// ``install(_:at:)``: verifies see the old contents until then, and no step holds every
    /// decoded token record at once.
    struct Loader: Sendable {
        var state = State()

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

    /// Whether the cache reflects store index `index` within `timeout`. Polls every 2 ms: for
    /// the rare verify that waits for the change feed (``TokenService/catchUp(after:secret:)``),
    /// so a timed-out wait leaves nothing registered behind.
    func waitUntilApplied(_ index: StoreIndex, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while appliedIndex < index {
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(2))) != nil else { return false }
        }
        return true
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
                    if let identity = old.principal.identity { s.identityHolders.remove(tag: identity.tableTag) { $0 === old } }
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
        s.byAccessor.set(entry) { $0.principal.accessor == accessor }
        if let expiry = token.expirationTime { s.expiries[accessor] = expiry }
        if let rotation = token.rotation {
            // The previous secret verifies as the same principal until the grace ends (or the
            // token expires first).
            let end = token.expirationTime.map { min($0, rotation.graceEndsAt) } ?? rotation.graceEndsAt
            let previous = rotation.previousDigest
            s.byDigest.set(
                PreviousSecretEntry(
                    principal: principal, digest: previous, issuedAt: token.issuedAt, revokedAt: token.revokedAt, graceEndsAt: end, rotatedAt: rotation.rotatedAt),
                tag: previous.firstWord) { $0.digest == previous }
            s.previousDigestByAccessor[accessor] = previous
            s.graceEnds[accessor] = rotation.graceEndsAt
        }
        if let identity = token.identity {
            // The newest token holds the identity (a deleted holder leaves it, see `apply`).
            let identityTag = identity.tableTag
            let holder = s.holder(of: identity, tag: identityTag)
            if holder == nil || holder!.issuedAt <= token.issuedAt || holder!.principal.accessor == accessor {
                s.identityHolders.set(entry) { $0.principal.identity == identity }
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
