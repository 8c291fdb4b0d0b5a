/// Who a verified secret belongs to, and what it may do. Immutable; a class so that handing it
/// out of the verification cache costs one reference count, not one per field.
public final class Principal: Sendable, Equatable, CustomStringConvertible {
    /// The token's accessor ID.
    public let accessorID: String
    /// The token's identity, if it has one.
    public let identity: String?
    /// IDs of the policies linked to the token.
    public let policyIDs: [String]
    /// Whether the token may admit privileged workloads.
    public let allowsPrivileged: Bool

    /// Creates a principal.
    public init(accessorID: String, identity: String?, policyIDs: [String], allowsPrivileged: Bool) {
        self.accessorID = accessorID
        self.identity = identity
        self.policyIDs = policyIDs
        self.allowsPrivileged = allowsPrivileged
    }

    public static func == (lhs: Principal, rhs: Principal) -> Bool {
        lhs.accessorID == rhs.accessorID && lhs.identity == rhs.identity && lhs.policyIDs == rhs.policyIDs
            && lhs.allowsPrivileged == rhs.allowsPrivileged
    }

    public var description: String { "Principal(\(auditName))" }

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
