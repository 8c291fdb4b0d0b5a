/// A right an operation needs.
public enum Right: String, Sendable {
    /// Read tokens, policies, roles and the audit log.
    case aclRead = "acl:read"
    /// Create, change and revoke tokens, policies and roles.
    case aclWrite = "acl:write"
}

extension Principal {
    /// Whether the principal holds `right`, by the `acl` rule of its policies.
    public func holds(_ right: Right) -> Bool {
        switch right {
        case .aclRead: acl.allowsRead
        case .aclWrite: acl.allowsWrite
        }
    }

    /// Throws `permission_denied` naming the missing right unless the principal holds it.
    public func require(_ right: Right) throws(JacoError) {
        guard holds(right) else {
            throw JacoError(.permissionDenied, "the token for '\(auditName)' lacks permission '\(right.rawValue)'; ask an operator for a token that has it")
        }
    }
}
