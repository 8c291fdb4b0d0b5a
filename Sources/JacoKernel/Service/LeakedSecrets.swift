import Foundation

/// What a leak report did with one secret.
public enum LeakedSecretOutcome: Sendable, Equatable {
    /// The secret's token was revoked now.
    case revoked(identity: String?, accessorID: String)
    /// It was a rotated token's previous secret: it stopped working now; the new one goes on.
    case previousSecretStopped(identity: String?, accessorID: String)
    /// Its token was revoked before.
    case alreadyRevoked(identity: String?, accessorID: String)
    /// No token has this secret.
    case unknown
    /// The line is not a Jaco secret; the reason.
    case malformed(String)
}

extension TokenService {
    /// The most secrets one leak report may carry.
    public static let maxLeakedSecrets = 1000

    /// Revokes every token whose secret is in `secrets`, by the secret's digest: whoever holds
    /// a secret may kill it, so no caller token is needed (GitHub's model for leaked
    /// credentials). A rotated token's previous secret only ends its grace window. Each
    /// revocation is audited as `token_revoke_leaked` by `leak-report`, with the accessor ID,
    /// never the secret. Returns one outcome per secret, in order.
    public func revokeLeaked(secrets: [String]) async throws -> [LeakedSecretOutcome] {
        guard secrets.count <= Self.maxLeakedSecrets else {
            throw JacoError(.validationFailed, "a leak report may carry at most \(Self.maxLeakedSecrets) secrets, not \(secrets.count); split it")
        }
        var outcomes = [LeakedSecretOutcome](repeating: .unknown, count: secrets.count)
        var digests: [(index: Int, digest: Digest256)] = []
        for (index, secret) in secrets.enumerated() {
            if let problem = SecretFormat.problem(with: secret) {
                outcomes[index] = .malformed(problem)
            } else {
                digests.append((index, hasher.digest(ofSecret: secret)))
            }
        }
        for start in stride(from: 0, to: digests.count, by: 16) {
            let batch = Array(digests[start..<min(start + 16, digests.count)])
            let decided: [(Int, LeakedSecretOutcome)]
            do {
                decided = try await pipeline.run { [self] snapshot in try await leakPlan(batch, in: snapshot) }
            } catch let nothing as NothingToRevoke {
                decided = nothing.outcomes
            }
            for (index, outcome) in decided { outcomes[index] = outcome }
        }
        return outcomes
    }

    private struct NothingToRevoke: Error { var outcomes: [(Int, LeakedSecretOutcome)] }

    private func leakPlan(_ batch: [(index: Int, digest: Digest256)], in snapshot: any StorageSnapshot) async throws -> PlannedWrite<[(Int, LeakedSecretOutcome)]> {
        var plan = PlannedWrite<[(Int, LeakedSecretOutcome)]>(transaction: Transaction(writes: []), audit: [], result: [])
        var changed: [String: Token] = [:]
        var versions: [String: StoreIndex] = [:]
        let now = clock()
        for (index, digest) in batch {
            guard let pointer = try await snapshot.get(KeySpace.digest(digest)) else {
                plan.result.append((index, .unknown))
                continue
            }
            let accessorID = String(decoding: pointer.bytes, as: UTF8.self)
            let key = KeySpace.token(accessorID)
            var token: Token
            if let pending = changed[accessorID] {
                token = pending
            } else {
                guard let stored = try await snapshot.get(key) else {
                    plan.result.append((index, .unknown))
                    continue
                }
                token = try Token(decoding: stored.bytes, key: key)
                versions[accessorID] = stored.modifyIndex
            }
            var payload = ["accessor_id": accessorID]
            if let identity = token.identity { payload["identity"] = identity }
            if token.revokedAt != nil {
                plan.result.append((index, .alreadyRevoked(identity: token.identity, accessorID: accessorID)))
            } else if token.secretDigest == digest {
                token.revokedAt = now
                changed[accessorID] = token
                plan.audit.append(AuditRecord(identity: "leak-report", type: AuditEventType.tokenRevokeLeaked, payload: payload.merging(["secret": "current"]) { $1 }))
                plan.result.append((index, .revoked(identity: token.identity, accessorID: accessorID)))
            } else if let rotation = token.rotation, rotation.previousDigest == digest {
                token.rotation = nil
                changed[accessorID] = token
                plan.transaction.writes.append(.delete(KeySpace.digest(digest)))
                plan.audit.append(AuditRecord(identity: "leak-report", type: AuditEventType.tokenRevokeLeaked, payload: payload.merging(["secret": "previous"]) { $1 }))
                plan.result.append((index, .previousSecretStopped(identity: token.identity, accessorID: accessorID)))
            } else {
                plan.result.append((index, .unknown))  // a stale digest entry
            }
        }
        if changed.isEmpty { throw NothingToRevoke(outcomes: plan.result) }
        for (accessorID, token) in changed {
            plan.transaction.conditions.append(.modifiedAt(KeySpace.token(accessorID), versions[accessorID]!))
            plan.transaction.writes.append(.put(KeySpace.token(accessorID), token.encode()))
            plan.tokens.append(token)
        }
        return plan
    }
}
