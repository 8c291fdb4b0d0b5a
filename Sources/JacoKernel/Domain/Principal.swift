/// Who a verified secret belongs to, and what it may do.
public struct Principal: Sendable, Equatable {
    /// The token's accessor ID.
    public var accessorID: String
    /// The token's identity, if it has one.
    public var identity: String?
    /// IDs of the policies linked to the token.
    public var policyIDs: [String]
    /// Whether the token may admit privileged workloads.
    public var allowsPrivileged: Bool

    /// Creates a principal.
    public init(accessorID: String, identity: String?, policyIDs: [String], allowsPrivileged: Bool) {
        self.accessorID = accessorID
        self.identity = identity
        self.policyIDs = policyIDs
        self.allowsPrivileged = allowsPrivileged
    }

    /// The name audit events are attributed to: the identity, else the accessor ID.
    public var auditName: String { identity ?? accessorID }

    /// Whether the principal holds the built-in management policy.
    public var isManagement: Bool { policyIDs.contains(BuiltIn.globalManagementPolicyID) }

    /// An in-process caller with full rights (tests, offline recovery), attributed to `name`.
    public static func system(_ name: String) -> Principal {
        Principal(accessorID: name, identity: name, policyIDs: [BuiltIn.globalManagementPolicyID], allowsPrivileged: true)
    }
}

extension Token {
    /// The principal this token verifies as.
    public var principal: Principal {
        Principal(accessorID: accessorID, identity: identity, policyIDs: policyIDs, allowsPrivileged: allowsPrivileged)
    }
}
