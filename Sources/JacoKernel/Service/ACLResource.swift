/// The ACL data a blocking query can wait on; each has its own index, the store index of the
/// last change that touched it.
public enum ACLResource: Sendable, CaseIterable {
    /// Tokens.
    case tokens
    /// Policies.
    case policies
    /// Roles.
    case roles
    /// Auth methods.
    case authMethods
    /// Binding rules.
    case bindingRules

    init?(key: String) {
        if key.hasPrefix(KeySpace.tokenPrefix) { self = .tokens }
        else if key.hasPrefix(KeySpace.policyPrefix) { self = .policies }
        else if key.hasPrefix(KeySpace.rolePrefix) { self = .roles }
        else if key.hasPrefix(KeySpace.authMethodPrefix) { self = .authMethods }
        else if key.hasPrefix(KeySpace.bindingRulePrefix) { self = .bindingRules }
        else { return nil }
    }
}
