import Foundation

/// One entry of the audit log. Each event carries the hash of the one before it.
public struct AuditEvent: Codable, Sendable, Equatable {
    /// Position in the log, from 1, without gaps.
    public var sequence: UInt64
    /// When it happened (millisecond precision).
    public var time: Date
    /// Who caused it (identity or accessor ID of the caller).
    public var identity: String
    /// What happened, e.g. `token_issue`.
    public var type: String
    /// Details; never a secret or a digest.
    public var payload: [String: String]
    /// The hash of the previous event (zero for the first).
    public var previousHash: Digest256
    /// The hash of this event: content hash over every field above.
    public var hash: Digest256

    /// The bytes the hash is computed over: each field length-prefixed, payload sorted by key.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        func field(_ bytes: some Collection<UInt8>) {
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out += $0 }
            out += bytes
        }
        field(String(sequence).utf8)
        field(String(time.milliseconds).utf8)
        field(identity.utf8)
        field(type.utf8)
        for key in payload.keys.sorted() {
            field(key.utf8)
            field(payload[key]!.utf8)
        }
        field(previousHash.bytes)
        return out
    }
}

/// Audit event types written by the kernel.
public enum AuditEventType {
    /// The whole state was replaced by a snapshot's.
    public static let snapshotRestore = "snapshot_restore"
    /// A token got a new secret (its previous one may work on through a grace window).
    public static let tokenRotate = "token_rotate"
    /// A rotation's previous secret stopped working (grace over, at once, or forced).
    public static let tokenRotateFinished = "token_rotate_finished"
    /// A token was revoked because its secret was reported leaked (no caller token needed).
    public static let tokenRevokeLeaked = "token_revoke_leaked"
    /// The cluster CA signed a client certificate for mutual TLS.
    public static let clientCertificateIssue = "client_certificate_issue"
    /// The cluster's bootstrap token was created.
    public static let clusterBootstrap = "cluster_bootstrap"
    /// A token was issued.
    public static let tokenIssue = "token_issue"
    /// A token was revoked.
    public static let tokenRevoke = "token_revoke"
    /// A token's description, links or service identities were changed.
    public static let tokenUpdate = "token_update"
    /// A token was deleted (Consul API).
    public static let tokenDelete = "token_delete"
    /// The reaper deleted a token past its expiration time.
    public static let tokenExpire = "token_expire"
    /// A policy was created.
    public static let policyCreate = "policy_create"
    /// A policy was changed.
    public static let policyUpdate = "policy_update"
    /// A policy was deleted.
    public static let policyDelete = "policy_delete"
    /// A role was created.
    public static let roleCreate = "role_create"
    /// A role was changed.
    public static let roleUpdate = "role_update"
    /// A role was deleted.
    public static let roleDelete = "role_delete"
    /// A manifest was applied as a new deployment revision.
    public static let apply = "apply"
    /// A service that needs privileges was admitted (one event per such service).
    public static let privilegedWorkloadAdmitted = "privileged_workload_admitted"
    /// Failed authentications on a listener over one period, in aggregate (never a secret).
    public static let authFailures = "auth_failures"
    /// Every type the kernel writes, for validating filters.
    public static let all = [
        clusterBootstrap, tokenIssue, tokenRevoke, tokenUpdate, tokenDelete, tokenExpire, policyCreate, policyUpdate,
        policyDelete, roleCreate, roleUpdate, roleDelete, apply, privilegedWorkloadAdmitted, clientCertificateIssue,
        tokenRotate, tokenRotateFinished, tokenRevokeLeaked, snapshotRestore, authFailures, authMethodCreate, authMethodUpdate,
        authMethodDelete, bindingRuleCreate, bindingRuleUpdate, bindingRuleDelete, login, logout,
    ]
}

/// The result of walking the audit hash chain.
public struct AuditChainReport: Sendable, Equatable {
    /// How many events were checked.
    public var checked: Int
    /// The first broken link, or nil when the chain is intact.
    public var firstBrokenLink: BrokenLink?

    /// Where and how the chain breaks.
    public struct BrokenLink: Sendable, Equatable {
        /// Sequence number of the first event that does not check out.
        public var sequence: UInt64
        /// What is wrong with it.
        public var reason: String
    }

    /// Whether every event checked out.
    public var isIntact: Bool { firstBrokenLink == nil }
}
