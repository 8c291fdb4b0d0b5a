import Foundation

extension LoginService {
    /// Logs in with auth method `methodName`: its type verifies `credential`, the method's
    /// binding rules choose the links, and a token with them is created (`AuthMethod` set,
    /// expiring after the method's `MaxTokenTTL`). `meta` goes into the description, as
    /// Consul's. Throws `not_found` for an unknown method, `permission_denied` naming the check
    /// that failed or saying that no rule matched, and `rate_limited` when the method holds
    /// its most live tokens; nothing is stored then.
    public func login(method methodName: String, credential: String, meta: [String: String] = [:]) async throws -> IssuedToken {
        if methodName.isEmpty { throw JacoError(.validationFailed, "AuthMethod is required: the name of the auth method to log in with") }
        if credential.isEmpty { throw JacoError(.validationFailed, "BearerToken is required: the credential (a JWT) to log in with") }
        // A method changed between its check and the token's write: check again against the new one.
        var attempts = 0
        while true {
            do {
                return try await loginOnce(method: methodName, credential: credential, meta: meta)
            } catch is MethodChanged {
                attempts += 1
                if attempts == 3 { throw JacoError(.unavailable, "auth method \(methodName.quotedForError) keeps changing during the login: try again") }
            }
        }
    }

    /// Thrown by a login's plan when its method changed since the credential was checked.
    struct MethodChanged: Error {}

    private func loginOnce(method methodName: String, credential: String, meta: [String: String]) async throws -> IssuedToken {
        guard let method = try await authMethod(name: methodName) else {
            throw JacoError(.notFound, "auth method \(methodName.quotedForError) not found")
        }
        let type = try methodType(method.record.type)
        let identity = try await type.verify(credential, for: method.record, modifyIndex: method.modifyIndex)
        let bindings = try await bind(identity, method: method.record)
        let description = Self.description(meta: meta)
        let now = acl.clock()
        let expiration = method.record.maxTokenTTL > 0 ? Date(milliseconds: now.addingTimeInterval(method.record.maxTokenTTL).milliseconds) : nil
        let secret = SecretFormat.generate()
        let limit = maxTokensPerMethod
        return try await acl.pipeline.run { [acl] snapshot in
            let methodKey = KeySpace.authMethod(methodName)
            guard let current = try await snapshot.get(methodKey), current.modifyIndex == method.modifyIndex else { throw MethodChanged() }
            let live = try await Self.liveLoginTokens(of: methodName, limit: limit, now: now, in: snapshot)
            if live >= limit {
                var error = JacoError(
                    .rateLimited,
                    "auth method \(methodName.quotedForError) holds \(live) live login tokens, its limit ([tokens] max_login_tokens_per_method): log out unused ones or wait for them to expire")
                error.retryAfter = .seconds(Int64(acl.settings.reapInterval.components.seconds + 1))
                throw error
            }
            let policyIDs = try await Self.existingIDs(named: bindings.policies, namePrefix: KeySpace.policyNamePrefix, in: snapshot)
            let roleIDs = try await Self.existingIDs(named: bindings.roles, namePrefix: KeySpace.roleNamePrefix, in: snapshot)
            if policyIDs.isEmpty && roleIDs.isEmpty && bindings.services.isEmpty {
                throw JacoError(
                    .permissionDenied,
                    "the binding rules of auth method \(methodName.quotedForError) that matched link only roles or policies that do not exist (\((bindings.roles + bindings.policies).joined(separator: ", ")))")
            }
            let local = method.record.tokenLocality != "global"
            let token = Token(
                accessorID: UUID().uuidString.lowercased(), identity: nil, secretDigest: acl.hasher.digest(ofSecret: secret), description: description,
                policyIDs: policyIDs, roleIDs: roleIDs, local: local, issuedAt: now, expirationTime: expiration,
                serviceIdentities: try acl.normalized(bindings.services.map { ServiceIdentity(serviceName: $0) }, local: local), authMethod: methodName)
            var payload = acl.linkPayload(token)
            payload["auth_method"] = methodName
            if let expiration { payload["expires_at"] = expiration.rfc3339 }
            return PlannedWrite(
                transaction: Transaction(
                    conditions: [.absent(KeySpace.token(token.accessorID)), .absent(KeySpace.digest(token.secretDigest)), .modifiedAt(methodKey, method.modifyIndex)],
                    writes: [
                        .put(KeySpace.token(token.accessorID), token.encode()),
                        .put(KeySpace.digest(token.secretDigest), Data(token.accessorID.utf8)),
                        .put(KeySpace.loginToken(token.accessorID, of: methodName), LoginTokenEntry.encode(expiration: expiration)),
                    ]),
                audit: [AuditRecord(identity: "auth-method:\(methodName)", type: AuditEventType.login, payload: payload)],
                result: IssuedToken(token: token, secret: secret), tokens: [token])
        }
    }

    /// Deletes the caller's own token, which must come from a login. Throws
    /// `permission_denied` for any other token.
    public func logout(_ caller: Principal) async throws {
        try await acl.pipeline.run { [acl] snapshot in
            guard let entry = try await acl.token(accessorID: caller.accessorID, namespace: "*", in: snapshot, includingExpired: true) else {
                throw JacoError(.tokenInvalid, "the caller's token no longer exists")
            }
            guard !entry.record.authMethod.isEmpty else {
                throw JacoError(.permissionDenied, "only a token created by logging in can log out (this one was not: delete it instead)")
            }
            return try await acl.deletePlan([entry], type: AuditEventType.logout, caller: caller.auditName, result: (), in: snapshot)
        }
    }

    /// The names a login's matching rules bind.
    struct Bindings {
        var services: [String] = []
        var roles: [String] = []
        var policies: [String] = []
    }

    /// Applies `method`'s binding rules to `identity`. Throws `permission_denied` when none
    /// matches (Consul's "Permission denied") or a rule makes an invalid name.
    func bind(_ identity: VerifiedIdentity, method: AuthMethod) async throws -> Bindings {
        var bindings = Bindings()
        var after: String? = nil
        let variables = BindName.variables(of: identity)
        var matched = 0
        repeat {
            let page = try await bindingRules(authMethod: method.name, after: after)
            for entry in page.items {
                let rule = entry.record
                guard (try? BindingSelector(parsing: rule.selector).matches(identity)) == true else { continue }
                matched += 1
                let name: String
                do {
                    name = try BindName.interpolate(rule.bindName, variables: variables)
                } catch {
                    throw JacoError(.permissionDenied, "binding rule \(rule.id): \(error.message)")
                }
                guard BindName.isValid(name, for: rule.bindType) else {
                    throw JacoError(.permissionDenied, "binding rule \(rule.id) makes \(name.quotedForError), which is not a valid \(rule.bindType.rawValue) name")
                }
                switch rule.bindType {
                case .service where !bindings.services.contains(name): bindings.services.append(name)
                case .role where !bindings.roles.contains(name): bindings.roles.append(name)
                case .policy where !bindings.policies.contains(name): bindings.policies.append(name)
                default: break
                }
            }
            after = page.next
        } while after != nil
        if matched == 0 {
            throw JacoError(.permissionDenied, "no binding rule of auth method \(method.name.quotedForError) matches the login's claims")
        }
        return bindings
    }

    /// Consul's login token description: `token created via login`, then the meta as JSON.
    static func description(meta: [String: String]) -> String {
        guard !meta.isEmpty else { return "token created via login" }
        let members = meta.keys.sorted().map { "\(JSONText.quoted($0, escapingHTML: true)):\(JSONText.quoted(meta[$0]!, escapingHTML: true))" }
        return "token created via login: {\(members.joined(separator: ","))}"
    }

    /// How many of `method`'s login tokens are live (at most `limit` is exact). The engine's
    /// count of entries first; only at the limit are the entries read, so that tokens past
    /// their expiry that the reaper has not deleted yet do not count.
    static func liveLoginTokens(of method: String, limit: Int, now: Date, in snapshot: any StorageSnapshot) async throws -> Int {
        let prefix = KeySpace.loginTokens(of: method)
        if let count = try await snapshot.count(prefix: prefix), count < limit { return count }
        var live = 0
        var after: String? = nil
        repeat {
            let page = try await snapshot.scan(prefix: prefix, startingAfter: after, limit: 10_000)
            live += page.filter { LoginTokenEntry.isLive($0.value.bytes, at: now) }.count
            after = page.count == 10_000 ? page.last?.key : nil
        } while after != nil && live < limit
        return live
    }

    /// The IDs of the records named `names` (through the name index at `namePrefix`); names
    /// with no record are left out, as Consul's binder does.
    static func existingIDs(named names: [String], namePrefix: String, in snapshot: any StorageSnapshot) async throws -> [String] {
        var ids: [String] = []
        for name in names {
            if let stored = try await snapshot.get(namePrefix + name) { ids.append(String(decoding: stored.bytes, as: UTF8.self)) }
        }
        return ids
    }
}

/// The value of a login token's entry under its auth method: its expiration time (milliseconds
/// since 1970, 8 bytes big-endian), or nothing for a token that does not expire.
enum LoginTokenEntry {
    static func encode(expiration: Date?) -> Data {
        guard let expiration else { return Data() }
        return withUnsafeBytes(of: UInt64(max(0, expiration.milliseconds)).bigEndian) { Data($0) }
    }

    /// Whether the token is live at `now` (an entry that does not decode counts as live).
    static func isLive(_ value: Data, at now: Date) -> Bool {
        guard value.count == 8 else { return true }
        let milliseconds = value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Date(milliseconds: Int64(clamping: milliseconds)) > now
    }
}
