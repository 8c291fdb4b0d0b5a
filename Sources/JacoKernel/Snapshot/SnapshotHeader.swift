import Foundation

/// The header of a snapshot file: what it holds and where it came from.
public struct SnapshotHeader: Codable, Sendable, Equatable {
    /// The file format's version; readers refuse newer ones.
    public var format: Int
    /// The storage engine it was taken from.
    public var engine: String
    /// The store index it reflects.
    public var storeIndex: UInt64
    /// When it was taken (RFC 3339, UTC).
    public var createdAt: String
    /// The hashing config's fingerprint (`algorithm:` and 16 hex digits that depend on the HMAC
    /// key but do not reveal it): a restore needs the same.
    public var hashing: String
    /// Records by kind (`tokens`, `policies`, `roles`, `audit_events`, `deployments`,
    /// `revisions`, `other`).
    public var counts: [String: Int]
    /// All records.
    public var records: Int

    /// The format this build writes and the newest it reads.
    public static let currentFormat = 1

    enum CodingKeys: String, CodingKey {
        case format, engine, storeIndex = "store_index", createdAt = "created_at", hashing, counts, records
    }

    /// The kind a key counts as.
    static func kind(of key: String) -> String {
        if key.hasPrefix(KeySpace.tokenPrefix) { return "tokens" }
        if key.hasPrefix(KeySpace.policyPrefix) { return "policies" }
        if key.hasPrefix(KeySpace.rolePrefix) { return "roles" }
        if key.hasPrefix(KeySpace.auditPrefix) { return "audit_events" }
        if key.hasPrefix(KeySpace.revisionPrefix) { return "revisions" }
        if key.hasPrefix(KeySpace.deploymentPrefix) { return "deployments" }
        if key.hasPrefix(KeySpace.authMethodPrefix) { return "auth_methods" }
        if key.hasPrefix(KeySpace.bindingRulePrefix) { return "binding_rules" }
        return "other"
    }
}

/// The fingerprint of a hashing config: the algorithm, and a digest of a fixed probe made with
/// it (for `hmac-sha256` it depends on the key without revealing it).
public enum HashingFingerprint {
    /// The fingerprint of `hasher`.
    public static func of(_ hasher: any SecretHasher) -> String {
        "\(hasher.algorithm):\(hasher.digest(ofSecret: "jaco snapshot hashing fingerprint").hex.prefix(16))"
    }
}
