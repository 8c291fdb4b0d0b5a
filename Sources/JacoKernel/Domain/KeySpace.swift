/// The kernel's key layout in the store. Backends see only opaque keys.
enum KeySpace {
    /// `t/<accessor>` → token record.
    static let tokenPrefix = "t/"
    /// `ti/<identity>` → accessor ID (identity index).
    static let identityPrefix = "ti/"
    /// `td/<digest hex>` → accessor ID (secret digest index).
    static let digestPrefix = "td/"
    /// `p/<id>` → policy record.
    static let policyPrefix = "p/"
    /// Last-used time by accessor ID (seconds since 1970, 8 bytes big-endian); kept apart
    /// from the token record so that recording use does not rewrite the token.
    static let lastUsedPrefix = "lu/"
    /// `pn/<name>` → policy ID (name index).
    static let policyNamePrefix = "pn/"
    /// `r/<id>` → role record.
    static let rolePrefix = "r/"
    /// `rn/<name>` → role ID (name index).
    static let roleNamePrefix = "rn/"
    /// `am/<name>` → auth method record.
    static let authMethodPrefix = "am/"
    /// `br/<id>` → binding rule record.
    static let bindingRulePrefix = "br/"
    /// `lm/<auth method>/<accessor>` → empty: the login tokens of each auth method, so they can
    /// be counted (the per-method bound) and found (deleting a method deletes its tokens).
    static let loginTokenPrefix = "lm/"
    /// `d/<deployment>` → the deployment's latest revision number.
    static let deploymentPrefix = "d/"
    /// `dr/<deployment>/<revision, 16 hex digits>` → the manifest of that revision.
    static let revisionPrefix = "dr/"
    /// `a/<sequence, 16 hex digits>` → audit event.
    static let auditPrefix = "a/"
    /// The newest audit event's sequence and hash.
    static let auditHead = "m/audit-head"
    /// Present once the cluster is bootstrapped; holds the bootstrap token's accessor ID.
    static let bootstrapMarker = "m/bootstrap"
    /// The cluster CA (certificate and key, PEM) that daemons sharing the store share.
    static let clusterCA = "m/cluster-ca"

    /// Metadata keys (`m/…`).
    static let metadataPrefix = "m/"
    /// Every top-level prefix, in key order: together they cover every key the kernel writes
    /// (whole-store walks scan these, as some engines cannot scan an empty prefix).
    static let allPrefixes = [
        auditPrefix, authMethodPrefix, bindingRulePrefix, deploymentPrefix, revisionPrefix, loginTokenPrefix, lastUsedPrefix,
        metadataPrefix, policyPrefix, policyNamePrefix,
        rolePrefix, roleNamePrefix, tokenPrefix, digestPrefix, identityPrefix,
    ]

    static func token(_ accessorID: String) -> String { tokenPrefix + accessorID }
    static func identity(_ identity: String) -> String { identityPrefix + identity }
    static func digest(_ digest: Digest256) -> String { digestPrefix + digest.hex }
    static func policy(_ id: String) -> String { policyPrefix + id }
    static func lastUsed(_ accessorID: String) -> String { lastUsedPrefix + accessorID }
    static func policyName(_ name: String) -> String { policyNamePrefix + name }
    static func role(_ id: String) -> String { rolePrefix + id }
    static func roleName(_ name: String) -> String { roleNamePrefix + name }
    static func authMethod(_ name: String) -> String { authMethodPrefix + name }
    static func bindingRule(_ id: String) -> String { bindingRulePrefix + id }
    static func loginTokens(of method: String) -> String { loginTokenPrefix + method + "/" }
    static func loginToken(_ accessorID: String, of method: String) -> String { loginTokens(of: method) + accessorID }

    static func deployment(_ name: String) -> String { deploymentPrefix + name }
    static func revision(_ name: String, _ revision: UInt64) -> String { revisionPrefix + name + "/" + hex16(revision) }
    static func audit(_ sequence: UInt64) -> String { auditPrefix + hex16(sequence) }

    /// Sixteen lowercase hex digits, so that key order is numeric order.
    static func hex16(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    }
}
