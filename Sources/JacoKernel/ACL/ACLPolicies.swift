import Foundation

extension ACLService {
    // MARK: - Policies

    /// The policy with `id`, or nil.
    public func policy(id: String) async throws -> Indexed<Policy>? {
        try await storage.read { try await self.record(KeySpace.policy(id), in: $0) }
    }

    /// The policy named `name`, or nil.
    public func policy(name: String) async throws -> Indexed<Policy>? {
        try await storage.read { snapshot in
            guard let id = try await snapshot.get(KeySpace.policyName(name)) else { return nil }
            return try await self.record(KeySpace.policy(String(decoding: id.bytes, as: UTF8.self)), in: snapshot)
        }
    }

    /// One page of policies in ID order after the cursor `after` (see ``ListPage``).
    public func policies(after: String?, limit: Int = Paging.defaultPageSize) async throws -> ListPage<Indexed<Policy>> {
        try await recordPage(prefix: KeySpace.policyPrefix, after: after, limit: limit) { (_: Indexed<Policy>) in true }
    }

    /// Creates (`id` nil) or changes a policy. Needs acl:write.
    public func writePolicy(id: String?, _ request: PolicyRequest, by caller: Principal) async throws -> Policy {
        try caller.require(.aclWrite)
        if id == nil && !request.id.isEmpty {
            throw JacoError(.validationFailed, "Cannot specify the ID when creating a new policy")
        }
        if let id, !request.id.isEmpty, request.id != id {
            throw JacoError(.validationFailed, "Policy ID in URL and payload do not match")
        }
        try Self.validateName(request.name, kind: "Policy", maxLength: 128)
        _ = try ACLRules.aclLevel(in: request.rules)
        return try await pipeline.run { [self] snapshot in
            try await requireInitialized(snapshot)
            var policy = Policy(id: id ?? UUID().uuidString.lowercased(), name: request.name, description: request.description, rules: request.rules, datacenters: request.datacenters)
            let existing: Indexed<Policy>? = if let id { try await record(KeySpace.policy(id), in: snapshot) } else { nil }
            if id != nil && existing == nil { throw JacoError(.notFound, "Cannot find policy \"\(id!)\"") }
            if let builtIn = Self.builtInPolicyNames[policy.id], let old = existing?.record {
                if policy.name != old.name { throw JacoError(.validationFailed, "Changing the Name for the builtin \(builtIn) policy is not permitted") }
                if policy.rules != old.rules && !policy.rules.isEmpty { throw JacoError(.validationFailed, "Changing the Rules for the builtin \(builtIn) policy is not permitted") }
                policy.rules = old.rules
            }
            var transaction = try await namedWrite(
                key: KeySpace.policy(policy.id), nameKey: KeySpace.policyName(policy.name), oldNameKey: existing.map { KeySpace.policyName($0.record.name) },
                id: policy.id, modifyIndex: existing?.modifyIndex, kind: "Policy", name: policy.name, in: snapshot)
            transaction.writes.insert(.put(KeySpace.policy(policy.id), policy.encode()), at: 0)
            return PlannedWrite(
                transaction: transaction,
                audit: [AuditRecord(identity: caller.auditName, type: existing == nil ? AuditEventType.policyCreate : AuditEventType.policyUpdate, payload: ["policy_id": policy.id, "name": policy.name])],
                result: policy)
        }
    }

    /// Deletes a policy; false when there was none. Tokens and roles that link to it keep the
    /// link, which grants nothing. The built-in policies cannot be deleted.
    public func deletePolicy(id: String, by caller: Principal) async throws -> Bool {
        try caller.require(.aclWrite)
        if let builtIn = Self.builtInPolicyNames[id] {
            throw JacoError(.permissionDenied, "Delete operation not permitted on the builtin \(builtIn) policy")
        }
        return try await deleteNamed(key: KeySpace.policy(id), type: AuditEventType.policyDelete, caller: caller) { (policy: Policy) in
            (KeySpace.policyName(policy.name), ["policy_id": id, "name": policy.name])
        }
    }

    // MARK: - Roles

    /// The role with `id`, or nil.
    public func role(id: String) async throws -> Indexed<Role>? {
        try await storage.read { try await self.record(KeySpace.role(id), in: $0) }
    }

    /// The role named `name`, or nil.
    public func role(name: String) async throws -> Indexed<Role>? {
        try await storage.read { snapshot in
            guard let id = try await snapshot.get(KeySpace.roleName(name)) else { return nil }
            return try await self.record(KeySpace.role(String(decoding: id.bytes, as: UTF8.self)), in: snapshot)
        }
    }

    /// One page of roles in ID order after the cursor `after`; with `policyID`, only roles
    /// linking to it (a page may then hold fewer than `limit`).
    public func roles(policyID: String = "", after: String?, limit: Int = Paging.defaultPageSize) async throws -> ListPage<Indexed<Role>> {
        try await recordPage(prefix: KeySpace.rolePrefix, after: after, limit: limit) { (role: Indexed<Role>) in
            policyID.isEmpty || role.record.policyIDs.contains(policyID)
        }
    }

    /// Creates (`id` nil) or changes a role. Needs acl:write.
    public func writeRole(id: String?, _ request: RoleRequest, by caller: Principal) async throws -> Role {
        try caller.require(.aclWrite)
        if id == nil && !request.id.isEmpty {
            throw JacoError(.validationFailed, "Cannot specify the ID when creating a new role")
        }
        if let id, !request.id.isEmpty, request.id != id {
            throw JacoError(.validationFailed, "Role ID in URL and payload do not match")
        }
        try Self.validateName(request.name, kind: "Role", maxLength: 256)
        return try await pipeline.run { [self] snapshot in
            try await requireInitialized(snapshot)
            let existing: Indexed<Role>? = if let id { try await record(KeySpace.role(id), in: snapshot) } else { nil }
            if id != nil && existing == nil { throw JacoError(.notFound, "Cannot find role \"\(id!)\"") }
            let role = Role(
                id: id ?? UUID().uuidString.lowercased(), name: request.name, description: request.description,
                policyIDs: try await resolve(request.policies, kind: .policy, in: snapshot),
                serviceIdentities: try normalized(request.serviceIdentities, local: false))
            var transaction = try await namedWrite(
                key: KeySpace.role(role.id), nameKey: KeySpace.roleName(role.name), oldNameKey: existing.map { KeySpace.roleName($0.record.name) },
                id: role.id, modifyIndex: existing?.modifyIndex, kind: "Role", name: role.name, in: snapshot)
            transaction.writes.insert(.put(KeySpace.role(role.id), role.encode()), at: 0)
            return PlannedWrite(
                transaction: transaction,
                audit: [AuditRecord(identity: caller.auditName, type: existing == nil ? AuditEventType.roleCreate : AuditEventType.roleUpdate, payload: ["role_id": role.id, "name": role.name, "policies": role.policyIDs.joined(separator: ",")])],
                result: role)
        }
    }

    /// Deletes a role; false when there was none. Tokens that link to it keep the link, which
    /// grants nothing.
    public func deleteRole(id: String, by caller: Principal) async throws -> Bool {
        try caller.require(.aclWrite)
        return try await deleteNamed(key: KeySpace.role(id), type: AuditEventType.roleDelete, caller: caller) { (role: Role) in
            (KeySpace.roleName(role.name), ["role_id": id, "name": role.name])
        }
    }

    // MARK: - Helpers

    /// Built-in policies by ID: their names and rules are fixed, and they cannot be deleted
    /// (as Consul's agent/consul/acl_endpoint.go PolicySet and PolicyDelete rule).
    static let builtInPolicyNames = [
        BuiltIn.globalManagementPolicyID: Policy.globalManagement.name, BuiltIn.globalReadOnlyPolicyID: Policy.globalReadOnly.name,
    ]

    /// Consul's name rule for policies and roles: letters, digits, `-` and `_`.
    static func validateName(_ name: String, kind: String, maxLength: Int) throws(JacoError) {
        // Consul's wording (agent/consul/acl_endpoint.go PolicySet, RoleSet).
        if name.isEmpty { throw JacoError(.validationFailed, "Invalid \(kind): no Name is set") }
        let valid = !name.isEmpty && name.count <= maxLength
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
        if !valid {
            throw JacoError(.validationFailed, "Invalid \(kind): invalid Name \"\(EchoedInput.quote(name))\". Only alphanumeric characters, '-' and '_' are allowed, 1 to \(maxLength) of them")
        }
    }

    func record<R: StoredRecord & Sendable>(_ key: String, in snapshot: any StorageSnapshot) async throws -> Indexed<R>? {
        guard let stored = try await snapshot.get(key) else { return nil }
        return Indexed(record: try R(decoding: stored.bytes, key: key), createIndex: stored.createIndex, modifyIndex: stored.modifyIndex)
    }

    /// One page of the records under `prefix` in key order after `after`, those `keep` accepts.
    func recordPage<R: StoredRecord & Sendable>(
        prefix: String, after: String?, limit: Int, keep: @escaping (Indexed<R>) -> Bool
    ) async throws -> ListPage<Indexed<R>> {
        try await storage.read { snapshot in
            try await Paging.page(of: prefix, after: after, limit: limit, in: snapshot) { entry in
                let record = Indexed(record: try R(decoding: entry.value.bytes, key: entry.key), createIndex: entry.value.createIndex, modifyIndex: entry.value.modifyIndex)
                return keep(record) ? record : nil
            }
        }
    }

    /// The conditions and name-index writes of putting a named record: the name must be free
    /// (or already this record's), a rename frees the old name.
    private func namedWrite(
        key: String, nameKey: String, oldNameKey: String?, id: String, modifyIndex: StoreIndex?, kind: String, name: String,
        in snapshot: any StorageSnapshot
    ) async throws -> Transaction {
        var transaction = Transaction(writes: [])
        transaction.conditions.append(modifyIndex.map { .modifiedAt(key, $0) } ?? .absent(key))
        if let holder = try await snapshot.get(nameKey) {
            guard String(decoding: holder.bytes, as: UTF8.self) == id else {
                throw JacoError(.validationFailed, "Invalid \(kind): A \(kind) with Name \"\(name)\" already exists")
            }
            transaction.conditions.append(.modifiedAt(nameKey, holder.modifyIndex))
        } else {
            transaction.conditions.append(.absent(nameKey))
            transaction.writes.append(.put(nameKey, Data(id.utf8)))
        }
        if let oldNameKey, oldNameKey != nameKey { transaction.writes.append(.delete(oldNameKey)) }
        return transaction
    }

    private func deleteNamed<R: StoredRecord & Sendable>(
        key: String, type: String, caller: Principal, describe: @escaping @Sendable (R) -> (nameKey: String, payload: [String: String])
    ) async throws -> Bool {
        try await runUnlessNothing(orElse: false) { [self] snapshot in
            guard let existing: Indexed<R> = try await record(key, in: snapshot) else { throw NothingToDelete() }
            let (nameKey, payload) = describe(existing.record)
            return PlannedWrite(
                transaction: Transaction(conditions: [.modifiedAt(key, existing.modifyIndex)], writes: [.delete(key), .delete(nameKey)]),
                audit: [AuditRecord(identity: caller.auditName, type: type, payload: payload)],
                result: true)
        }
    }
}
