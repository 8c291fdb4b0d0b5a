import Foundation

/// A bearer token as stored: everything but the secret, of which only the digest is kept.
public struct Token: Codable, Sendable, Equatable {
    /// Public, stable ID (a lowercase UUID).
    public var accessorID: String
    /// The unique name the token is bound to (set for tokens minted by `jaco token issue`).
    public var identity: String?
    /// The digest of the secret; the secret itself is never stored.
    public var secretDigest: Digest256
    /// Free text.
    public var description: String
    /// IDs of linked policies.
    public var policyIDs: [String]
    /// IDs of linked roles.
    public var roleIDs: [String]
    /// Whether the token may apply manifests that need privileges.
    public var allowsPrivileged: Bool
    /// Whether the token is local to one datacenter (Consul compatibility).
    public var local: Bool
    /// The namespace (Consul compatibility); `default` unless set.
    public var namespace: String
    /// When the token was issued.
    public var issuedAt: Date
    /// When the token expires, if it does.
    public var expirationTime: Date?
    /// When the token was revoked; revoked tokens are kept but never verify.
    public var revokedAt: Date?
    /// Consul service identities (stored and returned; they grant no Jaco right).
    public var serviceIdentities: [ServiceIdentity]
    /// The auth method that created the token (Consul compatibility); empty for none.
    public var authMethod: String
    /// The last rotation, while its grace window keeps the previous secret working.
    public var rotation: Rotation?

    /// Creates a token record.
    public init(
        accessorID: String, identity: String?, secretDigest: Digest256, description: String = "",
        policyIDs: [String] = [], roleIDs: [String] = [], allowsPrivileged: Bool = false,
        local: Bool = false, namespace: String = "default", issuedAt: Date,
        expirationTime: Date? = nil, revokedAt: Date? = nil, serviceIdentities: [ServiceIdentity] = [],
        authMethod: String = "", rotation: Rotation? = nil
    ) {
        self.accessorID = accessorID
        self.identity = identity
        self.secretDigest = secretDigest
        self.description = description
        self.policyIDs = policyIDs
        self.roleIDs = roleIDs
        self.allowsPrivileged = allowsPrivileged
        self.local = local
        self.namespace = namespace
        self.issuedAt = issuedAt
        self.expirationTime = expirationTime
        self.revokedAt = revokedAt
        self.serviceIdentities = serviceIdentities
        self.authMethod = authMethod
        self.rotation = rotation
    }

    /// Whether the token has expired at `now`.
    public func isExpired(at now: Date = Date()) -> Bool {
        expirationTime.map { $0 <= now } ?? false
    }

    /// What `list` shows: the token without its digest.
    public var summary: TokenSummary {
        TokenSummary(
            accessorID: accessorID, identity: identity, description: description,
            allowsPrivileged: allowsPrivileged, issuedAt: issuedAt,
            expirationTime: expirationTime, revokedAt: revokedAt, rotatedAt: rotation?.rotatedAt, graceEndsAt: rotation?.graceEndsAt,
            authMethod: authMethod.isEmpty ? nil : authMethod)
    }
}

/// A secret rotation: the token got a new secret at `rotatedAt`; the previous one keeps
/// verifying until `graceEndsAt`, then stops everywhere.
public struct Rotation: Codable, Sendable, Equatable {
    /// The digest of the secret that was replaced.
    public var previousDigest: Digest256
    /// When the new secret was issued.
    public var rotatedAt: Date
    /// When the previous secret stops verifying.
    public var graceEndsAt: Date

    /// Creates a rotation record.
    public init(previousDigest: Digest256, rotatedAt: Date, graceEndsAt: Date) {
        self.previousDigest = previousDigest
        self.rotatedAt = rotatedAt
        self.graceEndsAt = graceEndsAt
    }
}

/// A token as listed: never carries a digest or a secret.
public struct TokenSummary: Codable, Sendable, Equatable {
    /// Public ID.
    public var accessorID: String
    /// Bound identity, if any.
    public var identity: String?
    /// Free text.
    public var description: String
    /// Whether the token may admit privileged workloads.
    public var allowsPrivileged: Bool
    /// When it was issued.
    public var issuedAt: Date
    /// When it expires, if it does.
    public var expirationTime: Date?
    /// When it was revoked, if it was.
    public var revokedAt: Date?
    /// When its secret was last rotated, while the previous one is in its grace window.
    public var rotatedAt: Date? = nil
    /// When the previous secret stops working, during a rotation's grace window.
    public var graceEndsAt: Date? = nil
    /// When it last verified, as the answering daemon knows it (its own uses and the store's).
    public var lastUsed: Date? = nil
    /// Whether a newer token holds its identity (it was revoked or expired, then issued again).
    public var superseded = false
    /// The auth method whose login made it, if one did.
    public var authMethod: String? = nil
}

/// A freshly issued token: the only place its plaintext secret ever appears.
public struct IssuedToken: Sendable {
    /// The stored record.
    public var token: Token
    /// The plaintext secret; show it once, never store or log it.
    public var secret: String
    /// When the identity was held by a revoked or expired token: its index entry's version.
    var previousHolder: StoreIndex? = nil

    /// Pairs a record with its secret.
    public init(token: Token, secret: String) {
        self.token = token
        self.secret = secret
    }

    init(token: Token, secret: String, previousHolder: StoreIndex?) {
        self.token = token
        self.secret = secret
        self.previousHolder = previousHolder
    }
}

/// Well-known IDs shared with Consul.
public enum BuiltIn {
    /// The `global-management` policy.
    public static let globalManagementPolicyID = "00000000-0000-0000-0000-000000000001"
    /// The `global-read-only` policy (Consul's well-known ID; a policy, not a token).
    public static let globalReadOnlyPolicyID = "00000000-0000-0000-0000-000000000002"
    /// The anonymous token's accessor ID.
    public static let anonymousTokenID = "00000000-0000-0000-0000-000000000002"
    /// The identity of the token created by bootstrap.
    public static let bootstrapIdentity = "bootstrap"
    /// The identity attributed to callers on the local unix socket.
    public static let localIdentity = "local"
}
