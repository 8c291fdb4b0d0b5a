/// Who a verified secret belongs to, and what it may do. Immutable; a class so that handing it
/// out of the verification cache costs one reference count, not one per field.
public final class Principal: Sendable, Equatable, CustomStringConvertible {
    // The order of the stored properties is the layout: the two one-byte fields fill the
    // accessor's padding, so a principal takes 72 bytes (a million are cached).
    let accessor: AccessorID
    /// Whether the token may admit privileged workloads.
    public let allowsPrivileged: Bool
    /// The effective `acl` level of the token's policies, direct and through its roles.
    public let acl: ACLLevel
    /// The token's identity, if it has one.
    public let identity: String?
    /// IDs of the policies linked to the token.
    public let policyIDs: [String]
    /// IDs of the roles linked to the token.
    public let roleIDs: [String]

    /// The token's accessor ID.
    public var accessorID: String { accessor.text }

    /// Creates a principal.
    public convenience init(accessorID: String, identity: String?, policyIDs: [String], roleIDs: [String] = [], allowsPrivileged: Bool, acl: ACLLevel) {
        self.init(accessor: AccessorID(accessorID), identity: identity, policyIDs: policyIDs, roleIDs: roleIDs, allowsPrivileged: allowsPrivileged, acl: acl)
    }

    init(accessor: AccessorID, identity: String?, policyIDs: [String], roleIDs: [String], allowsPrivileged: Bool, acl: ACLLevel) {
        self.accessor = accessor
        self.identity = identity
        self.policyIDs = policyIDs
        self.roleIDs = roleIDs
        self.allowsPrivileged = allowsPrivileged
        self.acl = acl
    }

    public static func == (lhs: Principal, rhs: Principal) -> Bool {
        lhs.accessor == rhs.accessor && lhs.identity == rhs.identity && lhs.policyIDs == rhs.policyIDs
            && lhs.roleIDs == rhs.roleIDs && lhs.allowsPrivileged == rhs.allowsPrivileged && lhs.acl == rhs.acl
    }

    public var description: String { "Principal(\(auditName))" }

    /// The name audit events are attributed to: the identity, else the accessor ID.
    public var auditName: String { identity ?? accessorID }

    /// Whether the principal holds the built-in management policy.
    public var isManagement: Bool { policyIDs.contains(BuiltIn.globalManagementPolicyID) }

    /// An in-process caller with full rights (tests, offline recovery), attributed to `name`.
    public static func system(_ name: String) -> Principal {
        Principal(accessorID: name, identity: name, policyIDs: [BuiltIn.globalManagementPolicyID], allowsPrivileged: true, acl: .write)
    }

    /// The anonymous caller when the store has no anonymous token (before bootstrap): no rights.
    public static let anonymousWithoutRights = Principal(
        accessorID: BuiltIn.anonymousTokenID, identity: nil, policyIDs: [], allowsPrivileged: false, acl: .none)
}
