import Foundation

/// A link to a policy or role by ID and/or name, as Consul clients send it. On write the name
/// is resolved to the ID; on read both are filled in.
public struct ACLLink: Sendable, Equatable {
    /// The linked policy's or role's ID ("" when only the name was given).
    public var id: String
    /// Its name ("" when only the ID was given).
    public var name: String

    /// Creates a link.
    public init(id: String = "", name: String = "") {
        self.id = id
        self.name = name
    }
}

/// What a Consul client asks for when it creates or updates a token.
public struct TokenRequest: Sendable {
    /// Caller-chosen accessor ID (create), or the ID in the body (update); "" for none.
    public var accessorID = ""
    /// Caller-chosen secret (create), or the current secret restated (update); "" for none.
    public var secretID = ""
    /// Free text.
    public var description = ""
    /// Policy links.
    public var policies: [ACLLink] = []
    /// Role links.
    public var roles: [ACLLink] = []
    /// Service identities.
    public var serviceIdentities: [ServiceIdentity] = []
    /// Whether the token is local to this datacenter.
    public var local = false
    /// When it expires; nil for never (update: nil keeps the current one).
    public var expirationTime: Date?
    /// Expiry relative to creation; 0 for none. Not persisted.
    public var expirationTTL: TimeInterval = 0
    /// Namespace; `default` unless set.
    public var namespace = "default"
    /// The auth method; only logins may set it.
    public var authMethod = ""

    /// Creates an empty request.
    public init() {}
}

/// What a client asks for when it creates or updates a policy.
public struct PolicyRequest: Sendable {
    /// The ID in the body ("" for none; create must leave it empty).
    public var id = ""
    /// Unique name.
    public var name = ""
    /// Free text.
    public var description = ""
    /// Rules in HCL or JSON; the `acl` rule is enforced, the rest kept verbatim.
    public var rules = ""
    /// Datacenters it is valid in.
    public var datacenters: [String] = []

    /// Creates an empty request.
    public init() {}
}

/// What a client asks for when it creates or updates a role.
public struct RoleRequest: Sendable {
    /// The ID in the body ("" for none; create must leave it empty).
    public var id = ""
    /// Unique name.
    public var name = ""
    /// Free text.
    public var description = ""
    /// Policy links.
    public var policies: [ACLLink] = []
    /// Service identities.
    public var serviceIdentities: [ServiceIdentity] = []

    /// Creates an empty request.
    public init() {}
}

/// A stored record with the store indexes of its creation and last change.
public struct Indexed<Record: Sendable>: Sendable {
    /// The record.
    public var record: Record
    /// Store index it was created at.
    public var createIndex: StoreIndex
    /// Store index it was last changed at.
    public var modifyIndex: StoreIndex

    /// Pairs a record with its indexes.
    public init(record: Record, createIndex: StoreIndex, modifyIndex: StoreIndex) {
        self.record = record
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
    }
}

/// Which tokens a listing returns.
public struct TokenFilter: Sendable {
    /// Only tokens linked to this policy ID ("" for any).
    public var policyID = ""
    /// Only tokens linked to this role ID ("" for any).
    public var roleID = ""
    /// Only tokens created by this auth method ("" for any).
    public var authMethod = ""
    /// Only tokens with a service identity for this service ("" for any).
    public var serviceName = ""
    /// Only tokens in this namespace; `*` for all.
    public var namespace = "default"

    /// Creates a filter that matches every token in the default namespace.
    public init() {}
}

/// Limits of the ACL service.
public struct ACLSettings: Sendable {
    /// The shortest expiration a token may have. Consul's is one minute; lower it for tests only.
    public var minExpirationTTL: TimeInterval = 60
    /// The longest expiration a token may have.
    public var maxExpirationTTL: TimeInterval = 24 * 3600

    /// How often the reaper looks for expired tokens: half the minimum TTL, at most 30 s.
    public var reapInterval: Duration { .milliseconds(Int64(max(0.1, min(30, minExpirationTTL / 2)) * 1000)) }

    /// Consul's limits.
    public init() {}

    /// Limits with a different minimum expiration (tests).
    public init(minExpirationTTL: TimeInterval) {
        self.minExpirationTTL = minExpirationTTL
    }
}

extension BuiltIn {
    /// IDs starting with this are reserved for built-ins (Consul's rule).
    public static let reservedIDPrefix = "00000000-0000-0000-0000-0000000000"
    /// The anonymous token's description.
    public static let anonymousDescription = "Anonymous Token"
}
