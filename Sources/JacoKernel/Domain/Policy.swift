import Foundation

/// A named set of rules (Consul's ACL policy). Tokens and roles link to policies by ID.
public struct Policy: Sendable, Equatable {
    /// Public, stable ID (a lowercase UUID, or a built-in's well-known ID).
    public var id: String
    /// Unique name.
    public var name: String
    /// Free text.
    public var description: String
    /// The rules, in Consul's HCL or JSON form, kept verbatim.
    public var rules: String
    /// Datacenters the policy is valid in (empty: all).
    public var datacenters: [String]

    /// Creates a policy.
    public init(id: String, name: String, description: String = "", rules: String = "", datacenters: [String] = []) {
        self.id = id
        self.name = name
        self.description = description
        self.rules = rules
        self.datacenters = datacenters
    }

    /// The built-in policy that grants every right, with Consul's well-known ID.
    public static let globalManagement = Policy(
        id: BuiltIn.globalManagementPolicyID, name: "global-management",
        description: "Builtin Policy that grants unlimited access",
        rules: "\nacl = \"write\"\nagent_prefix \"\" {\n  policy = \"write\"\n}\nkey_prefix \"\" {\n  policy = \"write\"\n}\nnode_prefix \"\" {\n  policy = \"write\"\n}\nservice_prefix \"\" {\n  policy = \"write\"\n}\n")

    /// The built-in `global-read-only` policy (Consul 1.16+, same ID and name): `acl = "read"`.
    public static let globalReadOnly = Policy(
        id: BuiltIn.globalReadOnlyPolicyID, name: "global-read-only",
        description: "Builtin Policy that grants unlimited read-only access to all components",
        rules: "\nacl = \"read\"\nagent_prefix \"\" {\n  policy = \"read\"\n}\nkey_prefix \"\" {\n  policy = \"read\"\n}\nnode_prefix \"\" {\n  policy = \"read\"\n}\nservice_prefix \"\" {\n  policy = \"read\"\n}\n")
}

/// A named group of policy links (Consul's ACL role).
public struct Role: Sendable, Equatable {
    /// Public, stable ID (a lowercase UUID).
    public var id: String
    /// Unique name.
    public var name: String
    /// Free text.
    public var description: String
    /// IDs of linked policies.
    public var policyIDs: [String]
    /// Consul service identities (stored and returned; they grant no Jaco right).
    public var serviceIdentities: [ServiceIdentity]

    /// Creates a role.
    public init(id: String, name: String, description: String = "", policyIDs: [String] = [], serviceIdentities: [ServiceIdentity] = []) {
        self.id = id
        self.name = name
        self.description = description
        self.policyIDs = policyIDs
        self.serviceIdentities = serviceIdentities
    }
}

extension Policy: StoredRecord {
    func encode() -> Data {
        var w = RecordWriter(version: 1)
        w.write(id)
        w.write(name)
        w.write(description)
        w.write(rules)
        w.write(datacenters)
        return w.data
    }

    package init(decoding data: Data, key: String) throws(JacoError) {
        var r = try RecordReader(data, key: key)
        self.init(id: try r.string(), name: try r.string(), description: try r.string(), rules: try r.string(), datacenters: try r.strings())
    }
}

extension Role: StoredRecord {
    func encode() -> Data {
        var w = RecordWriter(version: 2)
        w.write(id)
        w.write(name)
        w.write(description)
        w.write(policyIDs)
        w.write(serviceIdentities)
        return w.data
    }

    package init(decoding data: Data, key: String) throws(JacoError) {
        var r = try RecordReader(data, key: key)
        self.init(id: try r.string(), name: try r.string(), description: try r.string(), policyIDs: try r.strings())
        if r.version >= 2 { serviceIdentities = try r.serviceIdentities() }
    }
}
