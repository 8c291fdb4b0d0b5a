import Foundation

/// Consul's auth methods and binding rules over the kernel's store, and logging in with them:
/// a workload trades a credential it already holds (a JWT) for a token whose links the rules
/// choose. The credential is checked by the method's ``AuthMethodType`` plugin; everything
/// else — storage, rules, the token and its audit — happens here, through the write pipeline.
public final class LoginService: Sendable {
    let acl: ACLService
    /// The types this daemon can verify, by name.
    let types: [String: any AuthMethodType]
    /// The most live login tokens one auth method may hold.
    public let maxTokensPerMethod: Int

    init(acl: ACLService, types: [any AuthMethodType], maxTokensPerMethod: Int) {
        self.acl = acl
        self.types = Dictionary(types.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.maxTokensPerMethod = maxTokensPerMethod
    }

    /// Types Consul has that Jaco refuses by name, with why.
    static let unsupportedTypes = [
        "kubernetes": "use a jwt method with the cluster's service-account issuer (OIDCDiscoveryURL or JWKSURL) instead",
        "oidc": "the browser login flow is not supported; use a jwt method",
        "aws-iam": "use a jwt method with a workload identity token instead",
    ]

    // MARK: - Auth methods

    /// The auth method named `name`, or nil.
    public func authMethod(name: String) async throws -> Indexed<AuthMethod>? {
        try await acl.storage.read { try await self.acl.record(KeySpace.authMethod(name), in: $0) }
    }

    /// One page of auth methods in name order after the cursor `after`.
    public func authMethods(after: String?, limit: Int = Paging.defaultPageSize) async throws -> ListPage<Indexed<AuthMethod>> {
        try await acl.recordPage(prefix: KeySpace.authMethodPrefix, after: after, limit: limit) { (_: Indexed<AuthMethod>) in true }
    }

    /// Creates or changes the auth method `request.name`. Its type checks the config first
    /// (which may fetch a JWKS or discovery document). Needs acl:write.
    public func writeAuthMethod(_ request: AuthMethodRequest, by caller: Principal) async throws -> Indexed<AuthMethod> {
        try caller.require(.aclWrite)
        // Consul's wording (agent/consul/acl_endpoint.go AuthMethodSet).
        if request.name.isEmpty { throw JacoError(.validationFailed, "Invalid Auth Method: no Name is set") }
        if !BindName.isValid(request.name, for: .policy) {
            throw JacoError(.validationFailed, "Invalid Auth Method: invalid Name \(request.name.quotedForError). Only alphanumeric characters, '-' and '_' are allowed, 1 to 128 of them")
        }
        let existing = try await authMethod(name: request.name)
        var method = AuthMethod(
            name: request.name, type: request.type.isEmpty ? existing?.record.type ?? "" : request.type, displayName: request.displayName,
            description: request.description, maxTokenTTL: request.maxTokenTTL, tokenLocality: request.tokenLocality, config: request.config)
        if let existing, existing.record.type != method.type {
            throw JacoError(.validationFailed, "the Type field of an Auth Method is immutable (\(request.name.quotedForError) is \(existing.record.type.quotedForError))")
        }
        let type = try methodType(method.type)
        try checkTTL(method.maxTokenTTL)
        switch method.tokenLocality {
        case "", "local", "global": break
        default: throw JacoError(.validationFailed, "Invalid Auth Method: TokenLocality should be one of 'local' or 'global' (was \(method.tokenLocality.quotedForError))")
        }
        if method.config.trimmingCharacters(in: .whitespaces).isEmpty { method.config = "{}" }
        do {
            try await type.validate(method)
        } catch let error as JacoError where error.code == .validationFailed {
            throw JacoError(.validationFailed, "Invalid Auth Method: \(error.message)")
        }
        try await acl.pipeline.run { [acl] snapshot in
            try await acl.requireInitialized(snapshot)
            let current: Indexed<AuthMethod>? = try await acl.record(KeySpace.authMethod(method.name), in: snapshot)
            if let current, current.record.type != method.type {
                throw JacoError(.validationFailed, "the Type field of an Auth Method is immutable")
            }
            let key = KeySpace.authMethod(method.name)
            return PlannedWrite(
                transaction: Transaction(conditions: [current.map { .modifiedAt(key, $0.modifyIndex) } ?? .absent(key)], writes: [.put(key, method.encode())]),
                audit: [AuditRecord(
                    identity: caller.auditName, type: current == nil ? AuditEventType.authMethodCreate : AuditEventType.authMethodUpdate,
                    payload: ["name": method.name, "type": method.type])],
                result: ())
        }
        guard let written = try await authMethod(name: method.name) else {
            throw JacoError(.storageFailure, "the auth method \(method.name.quotedForError) was written but cannot be read back")
        }
        return written
    }

    /// Deletes an auth method, its binding rules and the tokens it created; false when there
    /// was none. Needs acl:write.
    public func deleteAuthMethod(name: String, by caller: Principal) async throws -> Bool {
        try caller.require(.aclWrite)
        let deleted = try await acl.runUnlessNothing(orElse: false) { [acl] snapshot in
            let key = KeySpace.authMethod(name)
            guard let existing: Indexed<AuthMethod> = try await acl.record(key, in: snapshot) else { throw ACLService.NothingToDelete() }
            var transaction = Transaction(conditions: [.modifiedAt(key, existing.modifyIndex)], writes: [.delete(key)])
            for entry in try await snapshot.scan(prefix: KeySpace.bindingRulePrefix) {
                let rule = try BindingRule(decoding: entry.value.bytes, key: entry.key)
                guard rule.authMethod == name else { continue }
                transaction.conditions.append(.modifiedAt(entry.key, entry.value.modifyIndex))
                transaction.writes.append(.delete(entry.key))
            }
            return PlannedWrite(
                transaction: transaction,
                audit: [AuditRecord(identity: caller.auditName, type: AuditEventType.authMethodDelete, payload: ["name": name, "binding_rules": String(transaction.writes.count - 1)])],
                result: true)
        }
        // Then its tokens, in small batches (engines bound a transaction's size). A login cannot
        // add one now: the method is gone.
        if deleted { try await deleteLoginTokens(of: name, by: caller.auditName) }
        return deleted
    }

    /// Deletes every token `method` created, 16 at a time.
    private func deleteLoginTokens(of method: String, by caller: String) async throws {
        while true {
            let done = try await acl.runUnlessNothing(orElse: true) { [acl] snapshot in
                let page = try await snapshot.scan(prefix: KeySpace.loginTokens(of: method), startingAfter: nil, limit: 16)
                var doomed: [Indexed<Token>] = []
                for entry in page {
                    let accessorID = String(entry.key.dropFirst(KeySpace.loginTokens(of: method).count))
                    if let token = try await acl.token(accessorID: accessorID, namespace: "*", in: snapshot, includingExpired: true) { doomed.append(token) }
                }
                if page.isEmpty { throw ACLService.NothingToDelete() }
                var plan = try await acl.deletePlan(doomed, type: AuditEventType.tokenDelete, caller: caller, result: false, in: snapshot)
                // An index entry whose token is gone already: drop it too.
                for entry in page where !doomed.contains(where: { KeySpace.loginToken($0.record.accessorID, of: method) == entry.key }) {
                    plan.transaction.writes.append(.delete(entry.key))
                }
                return plan
            }
            if done { return }
        }
    }

    /// The plugin for `type`, or a `validation_failed` naming what is supported.
    func methodType(_ type: String) throws(JacoError) -> any AuthMethodType {
        if let plugin = types[type] { return plugin }
        let supported = types.keys.sorted()
        if let why = Self.unsupportedTypes[type] {
            throw JacoError(.validationFailed, "Invalid Auth Method: Type \(type.quotedForError) is not supported by Jaco: \(why) (supported: \(supported.joined(separator: ", ")))")
        }
        throw JacoError(.validationFailed, "Invalid Auth Method: Type should be one of: [\(supported.joined(separator: " "))]\(type.isEmpty ? " (no Type is set)" : " (was \(type.quotedForError))")")
    }

    private func checkTTL(_ ttl: TimeInterval) throws(JacoError) {
        if ttl < 0 { throw JacoError(.validationFailed, "MaxTokenTTL \(GoDuration.format(ttl)) cannot be negative") }
        guard ttl != 0 else { return }
        if ttl > acl.settings.maxExpirationTTL {
            throw JacoError(.validationFailed, "MaxTokenTTL \(GoDuration.format(ttl)) cannot be more than \(GoDuration.format(acl.settings.maxExpirationTTL))")
        }
        if ttl < acl.settings.minExpirationTTL {
            throw JacoError(.validationFailed, "MaxTokenTTL \(GoDuration.format(ttl)) cannot be less than \(GoDuration.format(acl.settings.minExpirationTTL))")
        }
    }
}
