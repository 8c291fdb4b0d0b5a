import Foundation

extension LoginService {
    /// The binding rule with `id`, or nil.
    public func bindingRule(id: String) async throws -> Indexed<BindingRule>? {
        try await acl.storage.read { try await self.acl.record(KeySpace.bindingRule(id), in: $0) }
    }

    /// One page of binding rules in ID order after the cursor `after`; with `authMethod`, only
    /// that method's (a page may then hold fewer than `limit`).
    public func bindingRules(authMethod: String = "", after: String?, limit: Int = Paging.defaultPageSize) async throws -> ListPage<Indexed<BindingRule>> {
        try await acl.recordPage(prefix: KeySpace.bindingRulePrefix, after: after, limit: limit) { (rule: Indexed<BindingRule>) in
            authMethod.isEmpty || rule.record.authMethod == authMethod
        }
    }

    /// Creates (`id` nil) or changes a binding rule. The selector must parse and read only
    /// fields the method's logins have; the bind name must make a valid name. Needs acl:write.
    public func writeBindingRule(id: String?, _ request: BindingRuleRequest, by caller: Principal) async throws -> Indexed<BindingRule> {
        try caller.require(.aclWrite)
        // Consul's wording (agent/consul/acl_endpoint.go BindingRuleSet).
        if id == nil && !request.id.isEmpty { throw JacoError(.validationFailed, "Cannot specify the ID when creating a new binding rule") }
        if let id, !request.id.isEmpty, request.id != id { throw JacoError(.validationFailed, "BindingRule ID in URL and payload do not match") }
        if let id, !SecretFormat.isUUID(id) { throw JacoError(.validationFailed, "Binding Rule ID invalid UUID") }
        let ruleID = try await acl.pipeline.run { [self] snapshot in
            try await acl.requireInitialized(snapshot)
            let existing: Indexed<BindingRule>? = if let id { try await acl.record(KeySpace.bindingRule(id), in: snapshot) } else { nil }
            if let id, existing == nil { throw JacoError(.notFound, "cannot find binding rule \(id)") }
            var methodName = request.authMethod
            if let existing {
                if methodName.isEmpty { methodName = existing.record.authMethod }
                if methodName != existing.record.authMethod { throw JacoError(.validationFailed, "the AuthMethod field of an Binding Rule is immutable") }
            }
            if methodName.isEmpty { throw JacoError(.validationFailed, "Invalid Binding Rule: no AuthMethod is set") }
            let methodKey = KeySpace.authMethod(methodName)
            guard let method: Indexed<AuthMethod> = try await acl.record(methodKey, in: snapshot) else {
                throw JacoError(.validationFailed, "cannot find auth method with name \(methodName.quotedForError)")
            }
            let rule = BindingRule(
                id: id ?? UUID().uuidString.lowercased(), description: request.description, authMethod: methodName, selector: request.selector,
                bindType: try Self.bindType(request.bindType), bindName: request.bindName)
            try check(rule, blank: try methodType(method.record.type).blankIdentity(for: method.record))
            let key = KeySpace.bindingRule(rule.id)
            return PlannedWrite(
                transaction: Transaction(
                    conditions: [existing.map { .modifiedAt(key, $0.modifyIndex) } ?? .absent(key), .modifiedAt(methodKey, method.modifyIndex)],
                    writes: [.put(key, rule.encode())]),
                audit: [AuditRecord(
                    identity: caller.auditName, type: existing == nil ? AuditEventType.bindingRuleCreate : AuditEventType.bindingRuleUpdate,
                    payload: ["binding_rule_id": rule.id, "auth_method": rule.authMethod, "bind_type": rule.bindType.rawValue, "bind_name": rule.bindName])],
                result: rule.id)
        }
        guard let written = try await bindingRule(id: ruleID) else {
            throw JacoError(.storageFailure, "the binding rule \(ruleID) was written but cannot be read back")
        }
        return written
    }

    /// Deletes a binding rule; false when there was none. Needs acl:write.
    public func deleteBindingRule(id: String, by caller: Principal) async throws -> Bool {
        try caller.require(.aclWrite)
        return try await acl.runUnlessNothing(orElse: false) { [acl] snapshot in
            let key = KeySpace.bindingRule(id)
            guard let existing: Indexed<BindingRule> = try await acl.record(key, in: snapshot) else { throw ACLService.NothingToDelete() }
            return PlannedWrite(
                transaction: Transaction(conditions: [.modifiedAt(key, existing.modifyIndex)], writes: [.delete(key)]),
                audit: [AuditRecord(identity: caller.auditName, type: AuditEventType.bindingRuleDelete, payload: ["binding_rule_id": id, "auth_method": existing.record.authMethod])],
                result: true)
        }
    }

    /// The bind type `text` names; Consul's other types are refused by name.
    static func bindType(_ text: String) throws(JacoError) -> BindType {
        if text.isEmpty { throw JacoError(.validationFailed, "Invalid Binding Rule: no BindType is set") }
        if let type = BindType(rawValue: text) { return type }
        if text == "node" || text == "templated-policy" {
            throw JacoError(.validationFailed, "Invalid Binding Rule: BindType \(text.quotedForError) is not supported by Jaco (supported: service, role, policy)")
        }
        throw JacoError(.validationFailed, "Invalid Binding Rule: unknown BindType \(text.quotedForError)")
    }

    /// Checks a rule against the fields its method's logins have (`blank`).
    func check(_ rule: BindingRule, blank: VerifiedIdentity) throws(JacoError) {
        do {
            try BindingSelector(parsing: rule.selector).check(against: blank)
        } catch {
            throw JacoError(.validationFailed, "invalid Binding Rule: \(error.message)")
        }
        if rule.bindName.isEmpty { throw JacoError(.validationFailed, "Invalid Binding Rule: no BindName is set") }
        // As Consul does: interpolate with every variable set to "fake", then check the name.
        let fake = BindName.variables(of: blank).mapValues { _ in "fake" }
        let name: String
        do {
            name = try BindName.interpolate(rule.bindName, variables: fake)
        } catch {
            throw JacoError(.validationFailed, "Invalid Binding Rule: invalid BindName: \(error.message)")
        }
        if !BindName.isValid(name, for: rule.bindType) {
            throw JacoError(.validationFailed, "Invalid Binding Rule: invalid BindName \(rule.bindName.quotedForError): not a valid \(rule.bindType.rawValue) name")
        }
    }
}
