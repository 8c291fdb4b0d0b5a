import Foundation

/// How a command names a token: a `jaco` identity, or an accessor ID (any token, Consul's too).
public enum TokenReference: Sendable, Equatable, CustomStringConvertible {
    /// The token an identity names.
    case identity(String)
    /// The token with this accessor ID.
    case accessorID(String)

    /// An accessor ID when `text` is a UUID, else an identity.
    public init(_ text: String) {
        self = UUID(uuidString: text) != nil ? .accessorID(text.lowercased()) : .identity(text)
    }

    public var description: String {
        switch self {
        case .identity(let name): "identity '\(EchoedInput.quote(name))'"
        case .accessorID(let id): "accessor ID '\(id)'"
        }
    }
}

extension TokenService {
    /// Gives the token a new secret, keeping its accessor ID, identity, rights and privileged
    /// flag. The previous secret keeps verifying for `grace` (0: it stops at once), then stops
    /// on every daemon. Audited as `token_rotate`, and `token_rotate_finished` when the grace
    /// ends. A second rotation inside a grace window fails `failed_precondition` unless `force`
    /// (then that window's previous secret stops at once).
    public func rotate(_ reference: TokenReference, grace: TimeInterval = 0, force: Bool = false, by caller: Principal) async throws -> IssuedToken {
        try caller.require(.aclWrite)
        guard grace >= 0, grace <= settings.maxGrace else {
            throw JacoError(.validationFailed, "--grace \(DurationText.format(grace)) is out of range: 0 (at once) to \(DurationText.format(settings.maxGrace))")
        }
        return try await pipeline.run { [self] snapshot in
            let (token, version) = try await self.token(reference, in: snapshot)
            let name = token.identity ?? token.accessorID
            let now = clock()
            if let revokedAt = token.revokedAt {
                throw JacoError(.tokenRevoked, "the token for '\(name)' was revoked at \(revokedAt.rfc3339); issue a new one instead of rotating it")
            }
            if let expiry = token.expirationTime, expiry <= now {
                throw JacoError(.tokenExpired, "the token for '\(name)' expired at \(expiry.rfc3339); issue a new one instead of rotating it")
            }
            var writes: [Write] = []
            var audit: [AuditRecord] = []
            var payload = ["accessor_id": token.accessorID, "grace": DurationText.format(grace)]
            if let identity = token.identity { payload["identity"] = identity }
            if let open = token.rotation, open.graceEndsAt > now {
                guard force else {
                    throw JacoError(.failedPrecondition, "the token for '\(name)' is inside a rotation's grace window until \(open.graceEndsAt.rfc3339) (its previous secret still works); wait for it to end, or pass --force to stop that secret now and rotate again")
                }
                writes.append(.delete(KeySpace.digest(open.previousDigest)))
                audit.append(AuditRecord(identity: caller.auditName, type: AuditEventType.tokenRotateFinished, payload: payload.merging(["ended": "forced"]) { $1 }))
            }
            let secret = SecretFormat.generate()
            var rotated = token
            rotated.secretDigest = hasher.digest(ofSecret: secret)
            if grace > 0 {
                rotated.rotation = Rotation(previousDigest: token.secretDigest, rotatedAt: now, graceEndsAt: now.addingTimeInterval(grace))
                payload["grace_ends_at"] = now.addingTimeInterval(grace).rfc3339
            } else {
                rotated.rotation = nil
                writes.append(.delete(KeySpace.digest(token.secretDigest)))
            }
            writes += [.put(KeySpace.token(token.accessorID), rotated.encode()), .put(KeySpace.digest(rotated.secretDigest), Data(token.accessorID.utf8))]
            audit.append(AuditRecord(identity: caller.auditName, type: AuditEventType.tokenRotate, payload: payload))
            if grace == 0 {
                audit.append(AuditRecord(identity: caller.auditName, type: AuditEventType.tokenRotateFinished, payload: payload.merging(["ended": "at once"]) { $1 }))
            }
            return PlannedWrite(
                transaction: Transaction(conditions: [.modifiedAt(KeySpace.token(token.accessorID), version)], writes: writes),
                audit: audit, result: IssuedToken(token: rotated, secret: secret), tokens: [rotated])
        }
    }

    /// Ends every rotation whose grace is over: drops the previous secret's digest and records
    /// `token_rotate_finished`. The previous secret stopped verifying at the grace's end
    /// whether or not this ran (every daemon checks the time); the kernel's reaper calls it.
    @discardableResult
    public func finishRotations() async throws -> Int {
        let due = cache.finishedRotationAccessorIDs(at: clock())
        var finished = 0
        for start in stride(from: 0, to: due.count, by: 16) {
            let batch = Array(due[start..<min(start + 16, due.count)])
            do {
                finished += try await pipeline.run { [self] snapshot in
                    var plan = PlannedWrite(transaction: Transaction(writes: []), audit: [], result: 0)
                    for accessorID in batch {
                        let key = KeySpace.token(accessorID)
                        guard let stored = try await snapshot.get(key) else { continue }
                        var token = try Token(decoding: stored.bytes, key: key)
                        guard let rotation = token.rotation, rotation.graceEndsAt <= clock() else { continue }
                        token.rotation = nil
                        plan.transaction.conditions.append(.modifiedAt(key, stored.modifyIndex))
                        plan.transaction.writes += [.put(key, token.encode()), .delete(KeySpace.digest(rotation.previousDigest))]
                        var payload = ["accessor_id": accessorID, "ended": "grace over", "grace_ends_at": rotation.graceEndsAt.rfc3339]
                        if let identity = token.identity { payload["identity"] = identity }
                        plan.audit.append(AuditRecord(identity: "jacod", type: AuditEventType.tokenRotateFinished, payload: payload))
                        plan.tokens.append(token)
                        plan.result += 1
                    }
                    if plan.result == 0 { throw NothingToWrite() }
                    return plan
                }
            } catch is NothingToWrite {
                continue  // another daemon finished them first
            }
        }
        return finished
    }

    /// One token as listed (no digest), by identity or accessor ID. Needs acl:read.
    public func get(_ reference: TokenReference, by caller: Principal) async throws -> TokenSummary {
        try caller.require(.aclRead)
        let (token, _) = try await storage.read { snapshot in try await self.token(reference, in: snapshot) }
        var summaries = [token.summary]
        cache.annotate(&summaries)
        return summaries[0]
    }

    /// The token `reference` names, with its record's version.
    func token(_ reference: TokenReference, in snapshot: any StorageSnapshot) async throws -> (Token, StoreIndex) {
        switch reference {
        case .identity(let identity):
            return try await token(identity: identity, in: snapshot)
        case .accessorID(let accessorID):
            let key = KeySpace.token(accessorID)
            guard let stored = try await snapshot.get(key) else {
                throw JacoError(.notFound, "no token has accessor ID '\(EchoedInput.quote(accessorID))'; 'jaco token list --all' shows them")
            }
            return (try Token(decoding: stored.bytes, key: key), stored.modifyIndex)
        }
    }
}

/// A plan found nothing to write: the pipeline commits nothing, not even an audit head.
struct NothingToWrite: Error {}
