import Foundation
import JacoKernel

/// Consul's JSON shapes for tokens, policies and roles, both ways.
package enum ConsulJSON {
    /// What the API shows instead of a secret: Jaco keeps only its hash.
    static let hiddenSecret = "<hidden>"

    // MARK: - Encoding

    /// A token as Consul shows it; `secret` only in create and clone responses.
    /// Jaco's own fields come last, prefixed `Jaco`: revocation, rotation and last use.
    static func token(_ entry: Indexed<Token>, secret: String?, names: LinkNames, hash: String, lastUsed: Date? = nil) -> JSONValue {
        let token = entry.record
        var members: [(key: String, value: JSONValue)] = [
            ("AccessorID", .string(token.accessorID)),
            ("SecretID", .string(secret ?? hiddenSecret)),
            ("Description", .string(token.description)),
        ]
        let policies = links(token.policyIDs, names.policies)
        if !policies.isEmpty { members.append(("Policies", .array(policies))) }
        let roles = links(token.roleIDs, names.roles)
        if !roles.isEmpty { members.append(("Roles", .array(roles))) }
        if !token.serviceIdentities.isEmpty { members.append(("ServiceIdentities", serviceIdentities(token.serviceIdentities))) }
        members.append(("Local", .bool(token.local)))
        if !token.authMethod.isEmpty { members.append(("AuthMethod", .string(token.authMethod))) }
        if let expiry = token.expirationTime { members.append(("ExpirationTime", .string(expiry.rfc3339Milliseconds))) }
        members += [
            ("CreateTime", .string(token.issuedAt.rfc3339Milliseconds)),
            ("Hash", .string(hash)),
            ("CreateIndex", .number(String(entry.createIndex))),
            ("ModifyIndex", .number(String(entry.modifyIndex))),
            ("Namespace", .string(token.namespace)),
        ]
        // Jaco's own: a token revoked with 'jaco token revoke' is kept for the audit trail.
        if let revoked = token.revokedAt { members.append(("JacoRevokeTime", .string(revoked.rfc3339Milliseconds))) }
        if let rotation = token.rotation {
            members.append(("JacoRotateTime", .string(rotation.rotatedAt.rfc3339Milliseconds)))
            members.append(("JacoRotationGraceEndTime", .string(rotation.graceEndsAt.rfc3339Milliseconds)))
        }
        if let lastUsed { members.append(("JacoLastUsedTime", .string(lastUsed.rfc3339))) }
        return .object(members)
    }

    /// The JSON of ``token(_:secret:names:hash:)`` (without a secret), written straight to bytes:
    /// what a listing renders a million times, with no tree per token. `ConsulJSONTests` holds the
    /// two byte-equal.
    static func writeToken(_ entry: Indexed<Token>, names: LinkNames, hash: String, lastUsed: Date? = nil, to out: inout [UInt8]) {
        let token = entry.record
        func member(_ key: StaticString, _ value: String) {
            out.append(contentsOf: UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            JSONValue.writeString(value, to: &out)
        }
        func links(_ key: StaticString, _ ids: [String], _ names: [String: String]) {
            var first = true
            for id in ids {
                guard let name = names[id] else { continue }
                out.append(contentsOf: first ? Array(String(describing: key).utf8) : [UInt8(ascii: ",")])
                first = false
                member(#"{"ID":"#, id)
                member(#","Name":"#, name)
                out.append(UInt8(ascii: "}"))
            }
            if !first { out.append(UInt8(ascii: "]")) }
        }
        member(#"{"AccessorID":"#, token.accessorID)
        member(#","SecretID":"#, hiddenSecret)
        member(#","Description":"#, token.description)
        links(#","Policies":["#, token.policyIDs, names.policies)
        links(#","Roles":["#, token.roleIDs, names.roles)
        if !token.serviceIdentities.isEmpty {
            out.append(contentsOf: #","ServiceIdentities":"#.utf8)
            serviceIdentities(token.serviceIdentities).write(to: &out)
        }
        out.append(contentsOf: (token.local ? #","Local":true"# : #","Local":false"#).utf8)
        if !token.authMethod.isEmpty { member(#","AuthMethod":"#, token.authMethod) }
        if let expiry = token.expirationTime { member(#","ExpirationTime":"#, expiry.rfc3339Milliseconds) }
        member(#","CreateTime":"#, token.issuedAt.rfc3339Milliseconds)
        member(#","Hash":"#, hash)
        out.append(contentsOf: #","CreateIndex":"#.utf8)
        out.append(contentsOf: String(entry.createIndex).utf8)
        out.append(contentsOf: #","ModifyIndex":"#.utf8)
        out.append(contentsOf: String(entry.modifyIndex).utf8)
        member(#","Namespace":"#, token.namespace)
        if let revoked = token.revokedAt { member(#","JacoRevokeTime":"#, revoked.rfc3339Milliseconds) }
        if let rotation = token.rotation {
            member(#","JacoRotateTime":"#, rotation.rotatedAt.rfc3339Milliseconds)
            member(#","JacoRotationGraceEndTime":"#, rotation.graceEndsAt.rfc3339Milliseconds)
        }
        if let lastUsed { member(#","JacoLastUsedTime":"#, lastUsed.rfc3339) }
        out.append(UInt8(ascii: "}"))
    }

    /// A policy; `stub` leaves out the rules, as Consul's listing does.
    static func policy(_ entry: Indexed<Policy>, hash: String, stub: Bool = false) -> JSONValue {
        let policy = entry.record
        var members: [(key: String, value: JSONValue)] = [
            ("ID", .string(policy.id)),
            ("Name", .string(policy.name)),
            ("Description", .string(policy.description)),
        ]
        if !stub { members.append(("Rules", .string(policy.rules))) }
        members += [
            ("Datacenters", policy.datacenters.isEmpty ? .null : .array(policy.datacenters.map { .string($0) })),
            ("Hash", .string(hash)),
            ("CreateIndex", .number(String(entry.createIndex))),
            ("ModifyIndex", .number(String(entry.modifyIndex))),
            ("Namespace", .string("default")),
        ]
        return .object(members)
    }

    /// A role.
    static func role(_ entry: Indexed<Role>, names: LinkNames, hash: String) -> JSONValue {
        let role = entry.record
        var members: [(key: String, value: JSONValue)] = [
            ("ID", .string(role.id)),
            ("Name", .string(role.name)),
            ("Description", .string(role.description)),
        ]
        let policies = links(role.policyIDs, names.policies)
        if !policies.isEmpty { members.append(("Policies", .array(policies))) }
        if !role.serviceIdentities.isEmpty { members.append(("ServiceIdentities", serviceIdentities(role.serviceIdentities))) }
        members += [
            ("Hash", .string(hash)),
            ("CreateIndex", .number(String(entry.createIndex))),
            ("ModifyIndex", .number(String(entry.modifyIndex))),
            ("Namespace", .string("default")),
        ]
        return .object(members)
    }

    /// Links with both ID and name; links to deleted policies or roles are left out, as Consul does.
    private static func links(_ ids: [String], _ names: [String: String]) -> [JSONValue] {
        ids.compactMap { id in names[id].map { .object([("ID", .string(id)), ("Name", .string($0))]) } }
    }

    private static func serviceIdentities(_ identities: [ServiceIdentity]) -> JSONValue {
        .array(identities.map { identity in
            var members: [(key: String, value: JSONValue)] = [("ServiceName", .string(identity.serviceName))]
            if !identity.datacenters.isEmpty { members.append(("Datacenters", .array(identity.datacenters.map { .string($0) }))) }
            return .object(members)
        })
    }

    // MARK: - Decoding

    /// A token create/update body, as Consul's `structs.ACLToken`.
    package static func tokenRequest(_ body: JSONValue) throws(GoStructDecoder.Failure) -> TokenRequest {
        let d = try GoStructDecoder(body, structName: "ACLToken", goType: "structs.ACLToken")
        try d.rejectUnknownFields(Fields.token)
        try refuseUnsupportedGrants(d)
        try d.refuse("Rules", goType: "string", because: "legacy token rules; link a policy instead")
        if case .string(let type)? = d.value("Type"), type == "management" {
            throw GoStructDecoder.Failure(message: "Type \"management\" is a legacy token type Jaco does not support; link the global-management policy instead")
        }
        var request = TokenRequest()
        request.accessorID = try d.string("AccessorID")
        // What a read shows in place of the secret means "unchanged" when a client writes the
        // token back (`consul acl token update`, the Go client's read-modify-write).
        request.secretID = try d.string("SecretID")
        if request.secretID == hiddenSecret { request.secretID = "" }
        request.description = try d.string("Description")
        request.policies = try d.structs("Policies", structName: "ACLTokenPolicyLink", link)
        request.roles = try d.structs("Roles", structName: "ACLTokenRoleLink", link)
        request.serviceIdentities = try d.structs("ServiceIdentities", structName: "ACLServiceIdentity", serviceIdentity)
        request.local = try d.bool("Local")
        request.expirationTime = try d.time("ExpirationTime")
        request.expirationTTL = try d.duration("ExpirationTTL")
        request.namespace = try d.string("Namespace")
        request.authMethod = try d.string("AuthMethod")
        _ = try d.time("CreateTime")
        try checkReadOnlyFields(d)
        return request
    }

    /// A policy create/update body, as Consul's `structs.ACLPolicy`.
    package static func policyRequest(_ body: JSONValue) throws(GoStructDecoder.Failure) -> PolicyRequest {
        let d = try GoStructDecoder(body, structName: "ACLPolicy", goType: "structs.ACLPolicy")
        try d.rejectUnknownFields(Fields.policy)
        var request = PolicyRequest()
        request.id = try d.string("ID")
        request.name = try d.string("Name")
        request.description = try d.string("Description")
        request.rules = try d.string("Rules")
        request.datacenters = try d.strings("Datacenters")
        try checkReadOnlyFields(d)
        return request
    }

    /// A role create/update body, as Consul's `structs.ACLRole`.
    package static func roleRequest(_ body: JSONValue) throws(GoStructDecoder.Failure) -> RoleRequest {
        let d = try GoStructDecoder(body, structName: "ACLRole", goType: "structs.ACLRole")
        try d.rejectUnknownFields(Fields.role)
        try refuseUnsupportedGrants(d)
        var request = RoleRequest()
        request.id = try d.string("ID")
        request.name = try d.string("Name")
        request.description = try d.string("Description")
        request.policies = try d.structs("Policies", structName: "ACLRolePolicyLink", link)
        request.serviceIdentities = try d.structs("ServiceIdentities", structName: "ACLServiceIdentity", serviceIdentity)
        try checkReadOnlyFields(d)
        return request
    }

    /// The namespace named in a body, if any.
    static func namespace(in body: JSONValue) -> String? {
        guard let d = try? GoStructDecoder(body, structName: "", goType: ""), let ns = try? d.string("Namespace"), !ns.isEmpty else { return nil }
        return ns
    }

    /// Fields a client may echo back from a read, and the enterprise meta; ignored (the
    /// namespace is read apart), but their types checked as Go would.
    private static func checkReadOnlyFields(_ d: GoStructDecoder) throws(GoStructDecoder.Failure) {
        _ = try d.string("Namespace")
        _ = try d.string("Partition")
        _ = try d.string("Hash")
        try d.checkUInt64("CreateIndex")
        try d.checkUInt64("ModifyIndex")
    }

    /// Fields that would grant rights Jaco does not model: refused rather than dropped.
    private static func refuseUnsupportedGrants(_ d: GoStructDecoder) throws(GoStructDecoder.Failure) {
        try d.refuse("NodeIdentities", goType: "[]*structs.ACLNodeIdentity", because: "node identities grant node rights Jaco does not model")
        try d.refuse("TemplatedPolicies", goType: "[]*structs.ACLTemplatedPolicy", because: "templated policies grant rights Jaco does not model")
    }

    private static func link(_ d: GoStructDecoder) throws(GoStructDecoder.Failure) -> ACLLink {
        try d.rejectUnknownFields(["ID", "Name"])
        return ACLLink(id: try d.string("ID"), name: try d.string("Name"))
    }

    private static func serviceIdentity(_ d: GoStructDecoder) throws(GoStructDecoder.Failure) -> ServiceIdentity {
        try d.rejectUnknownFields(["ServiceName", "Datacenters"])
        return ServiceIdentity(serviceName: try d.string("ServiceName"), datacenters: try d.strings("Datacenters"))
    }

    /// The JSON fields of Consul's structs (agent/structs/acl.go, with the enterprise and
    /// legacy ones a client may send), plus Jaco's own read-only ones, so that what a read
    /// returns can be written back. Anything else is an unknown field.
    enum Fields {
        static let common: Set<String> = ["Hash", "CreateIndex", "ModifyIndex", "Namespace", "Partition"]
        static let token: Set<String> = common.union([
            "AccessorID", "SecretID", "Description", "Policies", "Roles", "ServiceIdentities", "NodeIdentities", "TemplatedPolicies",
            "Type", "Rules", "Local", "AuthMethod", "AuthMethodNamespace", "ExpirationTime", "ExpirationTTL", "CreateTime", "Legacy",
            "JacoRevokeTime", "JacoRotateTime", "JacoRotationGraceEndTime", "JacoLastUsedTime",
        ])
        static let policy: Set<String> = common.union(["ID", "Name", "Description", "Rules", "Syntax", "Datacenters"])
        static let role: Set<String> = common.union(["ID", "Name", "Description", "Policies", "ServiceIdentities", "NodeIdentities", "TemplatedPolicies"])
    }
}

/// Policy and role names by ID, for showing links.
struct LinkNames {
    var policies: [String: String]
    var roles: [String: String]
}
