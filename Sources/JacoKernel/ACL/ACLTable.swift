/// The policies' `acl` levels and the roles' policy links, in memory, so that a token's
/// effective rights are computed without I/O.
struct ACLTable {
    private var policyLevels: [String: ACLLevel] = [:]
    private var rolePolicies: [String: [String]] = [:]
    /// Policy names by ID.
    private(set) var policyNames: [String: String] = [:]
    /// Role names by ID.
    private(set) var roleNames: [String: String] = [:]

    /// Records a policy (nil: deleted). Rules that no longer parse grant nothing.
    mutating func setPolicy(id: String, _ policy: Policy?) {
        policyLevels[id] = policy.map { (try? ACLRules.aclLevel(in: $0.rules)) ?? .none }
        policyNames[id] = policy?.name
    }

    /// Records a role (nil: deleted).
    mutating func setRole(id: String, _ role: Role?) {
        rolePolicies[id] = role?.policyIDs
        roleNames[id] = role?.name
    }

    /// The effective level of direct policy links plus those of the linked roles; links to
    /// policies or roles that do not exist grant nothing.
    func level(policyIDs: [String], roleIDs: [String]) -> ACLLevel {
        var level = ACLLevel.none
        for id in policyIDs { level = max(level, policyLevels[id] ?? .none) }
        for role in roleIDs {
            for id in rolePolicies[role] ?? [] { level = max(level, policyLevels[id] ?? .none) }
        }
        return level
    }

    /// The same principal with its level recomputed against this table.
    func refreshed(_ p: Principal) -> Principal {
        Principal(
            accessor: p.accessor, identity: p.identity, policyIDs: p.policyIDs, roleIDs: p.roleIDs,
            allowsPrivileged: p.allowsPrivileged, acl: level(policyIDs: p.policyIDs, roleIDs: p.roleIDs))
    }
}
