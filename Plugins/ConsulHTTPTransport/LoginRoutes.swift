import Hummingbird
import JacoKernel

/// Consul's auth-method, binding-rule, login and logout endpoints over the kernel's
/// ``LoginService``.
extension ConsulAPI {
    /// Registers the routes on `router`.
    func registerLoginRoutes(on router: Router<ConsulRequestContext>) {
        router.put("/v1/acl/auth-method") { request, context in await respond { try await writeAuthMethod(call(request, context), name: nil) } }
        router.get("/v1/acl/auth-method/:name") { request, context in
            await respond { try await readAuthMethod(call(request, context), name: try context.parameters.require("name")) }
        }
        router.put("/v1/acl/auth-method/:name") { request, context in
            await respond { try await writeAuthMethod(call(request, context), name: try context.parameters.require("name")) }
        }
        router.delete("/v1/acl/auth-method/:name") { request, context in
            await respond { try await deleteAuthMethod(call(request, context), name: try context.parameters.require("name")) }
        }
        router.get("/v1/acl/auth-methods") { request, context in await respond { try await listAuthMethods(call(request, context)) } }

        router.put("/v1/acl/binding-rule") { request, context in await respond { try await writeBindingRule(call(request, context), id: nil) } }
        router.get("/v1/acl/binding-rule/:id") { request, context in
            await respond { try await readBindingRule(call(request, context), id: try context.parameters.require("id")) }
        }
        router.put("/v1/acl/binding-rule/:id") { request, context in
            await respond { try await writeBindingRule(call(request, context), id: try context.parameters.require("id")) }
        }
        router.delete("/v1/acl/binding-rule/:id") { request, context in
            await respond { try await deleteBindingRule(call(request, context), id: try context.parameters.require("id")) }
        }
        router.get("/v1/acl/binding-rules") { request, context in await respond { try await listBindingRules(call(request, context)) } }

        router.post("/v1/acl/login") { request, context in await respond { try await login(call(request, context)) } }
        router.post("/v1/acl/logout") { request, context in await respond { try await logout(call(request, context)) } }
    }

    // MARK: - Auth methods

    private func writeAuthMethod(_ call: ConsulCall, name: String?) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        let body = try await call.jsonBody("AuthMethod")
        var request = try decode("AuthMethod") { () throws(GoStructDecoder.Failure) in try LoginJSON.authMethodRequest(body) }
        _ = try call.namespace(body: body)
        if let name {
            // Consul's agent/acl_endpoint.go ACLAuthMethodUpdate.
            if request.name.isEmpty { request.name = name }
            if request.name != name { throw ConsulHTTPError.badRequest("AuthMethod name in URL and payload do not match") }
        }
        let method = try await kernel.login.writeAuthMethod(request, by: caller)
        return Self.response(.ok, json: LoginJSON.authMethod(method))
    }

    private func readAuthMethod(_ call: ConsulCall, name: String) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        _ = try call.namespace()
        return try await blockingRead(call, .authMethods) {
            // Consul answers a missing method with an empty 404 (ACLAuthMethodRead).
            guard let entry = try await kernel.login.authMethod(name: name) else { throw ConsulHTTPError(status: .notFound, message: "", code: .notFound) }
            return LoginJSON.authMethod(entry)
        }
    }

    private func deleteAuthMethod(_ call: ConsulCall, name: String) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        _ = try call.namespace()
        _ = try await kernel.login.deleteAuthMethod(name: name, by: caller)
        return Self.response(.ok, json: .bool(true))
    }

    private func listAuthMethods(_ call: ConsulCall) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        _ = try call.namespace(allowWildcard: true)
        let (kernel, size) = (kernel, Self.listPageSize)
        return try await blockingList(call, .authMethods) { after in
            try await kernel.login.authMethods(after: after, limit: size)
        } render: { entry, out in
            LoginJSON.authMethod(entry, stub: true).write(to: &out)
        }
    }

    // MARK: - Binding rules

    private func writeBindingRule(_ call: ConsulCall, id: String?) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        let body = try await call.jsonBody("BindingRule")
        let request = try decode("BindingRule") { () throws(GoStructDecoder.Failure) in try LoginJSON.bindingRuleRequest(body) }
        _ = try call.namespace(body: body)
        let rule = try await kernel.login.writeBindingRule(id: id, request, by: caller)
        return Self.response(.ok, json: LoginJSON.bindingRule(rule))
    }

    private func readBindingRule(_ call: ConsulCall, id: String) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        _ = try call.namespace()
        return try await blockingRead(call, .bindingRules) {
            guard let entry = try await kernel.login.bindingRule(id: id) else { throw ConsulHTTPError(status: .notFound, message: "", code: .notFound) }
            return LoginJSON.bindingRule(entry)
        }
    }

    private func deleteBindingRule(_ call: ConsulCall, id: String) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        _ = try call.namespace()
        _ = try await kernel.login.deleteBindingRule(id: id, by: caller)
        return Self.response(.ok, json: .bool(true))
    }

    private func listBindingRules(_ call: ConsulCall) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        _ = try call.namespace(allowWildcard: true)
        let method = call.request.uri.queryParameters["authmethod"].map(String.init) ?? ""
        let (kernel, size) = (kernel, Self.listPageSize)
        return try await blockingList(call, .bindingRules) { after in
            try await kernel.login.bindingRules(authMethod: method, after: after, limit: size)
        } render: { entry, out in
            LoginJSON.bindingRule(entry).write(to: &out)
        }
    }

    // MARK: - Login

    private func login(_ call: ConsulCall) async throws -> Response {
        // No caller token: the credential in the body is the authentication.
        let body = try await call.jsonBody("Login")
        let (method, credential, meta) = try decode("Login") { () throws(GoStructDecoder.Failure) in try LoginJSON.loginRequest(body) }
        let namespace = try call.namespace(body: body)
        do {
            let login = { try await kernel.login.login(method: method, credential: credential, meta: meta) }
            // Refused credentials count against the caller's address, as unknown secrets do.
            let issued = if let throttle = call.throttle { try await throttle.login(from: call.peer?.ipAddress, login) } else { try await login() }
            return try await writtenToken(issued.token.accessorID, namespace: namespace, secret: issued.secret)
        } catch let error as JacoError where error.code == .notFound {
            // Consul: `ACL not found: auth method "x" not found`, answered 403.
            throw ConsulHTTPError(status: .forbidden, message: "ACL not found: \(error.message)", code: .notFound)
        }
    }

    private func logout(_ call: ConsulCall) async throws -> Response {
        // Consul (agent/consul/acl_endpoint.go Logout): no token is "ACL not found".
        guard call.secret != nil else { throw ConsulHTTPError.aclNotFound }
        let caller = try await call.caller()
        try await kernel.login.logout(caller)
        return Self.response(.ok, json: .bool(true))
    }
}
