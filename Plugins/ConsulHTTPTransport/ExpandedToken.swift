import Foundation
import JacoKernel

extension ConsulAPI {
    /// `GET /v1/acl/token/:id?expanded=true` (agent/acl_endpoint.go ACLTokenGet with
    /// `expanded`; api.ACLTokenExpanded): the token's fields, then every policy it gets
    /// (linked directly or through its roles) and every role, in full, and the agent's ACL
    /// settings as Jaco has them.
    func expandedTokenJSON(_ token: JSONValue, record: Token) async throws -> JSONValue {
        guard case .object(var members) = token else { return token }
        var roles: [JSONValue] = []
        var policyIDs: [String] = record.policyIDs
        let names = linkNames()
        for id in record.roleIDs {
            guard let role = try await kernel.acl.role(id: id) else { continue }
            roles.append(ConsulJSON.role(role, names: names, hash: kernel.acl.hash(of: role.record)))
            policyIDs += role.record.policyIDs.filter { !policyIDs.contains($0) }
        }
        var policies: [JSONValue] = []
        for id in policyIDs {
            guard let policy = try await kernel.acl.policy(id: id) else { continue }
            policies.append(ConsulJSON.policy(policy, hash: kernel.acl.hash(of: policy.record)))
        }
        members += [
            ("ExpandedPolicies", .array(policies)), ("ExpandedRoles", .array(roles)),
            ("NamespaceDefaultPolicyIDs", .null), ("NamespaceDefaultRoleIDs", .null),
            ("AgentACLDefaultPolicy", .string("deny")), ("AgentACLDownPolicy", .string("extend-cache")),
            ("ResolvedByAgent", .string(ProcessInfo.processInfo.hostName)),
        ]
        return .object(members)
    }
}
