import Foundation
import HTTPTypes
import Hummingbird
import JacoKernel
import JacoNIOSSL
import NIOCore

/// The Consul ACL endpoints over the kernel. Each handler reads the call, checks the caller's
/// rights with Consul's wording, calls the kernel and renders Consul's JSON.
struct ConsulAPI: Sendable {
    let kernel: Kernel
    let drain: ShutdownDrain
    /// Failed authentications per caller address on this listener.
    let throttle: AuthThrottle?
    /// Blocking queries waiting at once, against `max_blocking_queries`.
    let blockingQueries: ConnectionGate
    /// What `/v1/status/leader` answers: this listener's address.
    let leaderAddress: @Sendable () -> String

    /// Records per page of a streamed list: the kernel's default, or `JACO_TEST_LIST_PAGE_SIZE`
    /// (tests only, to list more than one page with few records).
    static let listPageSize = ProcessInfo.processInfo.environment["JACO_TEST_LIST_PAGE_SIZE"].flatMap(Int.init) ?? Paging.defaultPageSize

    /// Registers every route on `router`.
    func register(on router: Router<ConsulRequestContext>) {
        router.put("/v1/acl/bootstrap") { request, context in await respond { try await bootstrap(call(request, context)) } }

        router.put("/v1/acl/token") { request, context in await respond { try await createToken(call(request, context)) } }
        router.get("/v1/acl/token/self") { request, context in await respond { try await readSelf(call(request, context)) } }
        router.get("/v1/acl/token/:id") { request, context in
            await respond { try await readToken(call(request, context), id: try context.parameters.require("id")) }
        }
        router.put("/v1/acl/token/:id") { request, context in
            await respond { try await updateToken(call(request, context), id: try context.parameters.require("id")) }
        }
        router.put("/v1/acl/token/:id/clone") { request, context in
            await respond { try await cloneToken(call(request, context), id: try context.parameters.require("id")) }
        }
        router.delete("/v1/acl/token/:id") { request, context in
            await respond { try await deleteToken(call(request, context), id: try context.parameters.require("id")) }
        }
        router.get("/v1/acl/tokens") { request, context in await respond { try await listTokens(call(request, context)) } }

        router.put("/v1/acl/policy") { request, context in await respond { try await writePolicy(call(request, context), id: nil) } }
        router.get("/v1/acl/policy/name/:name") { request, context in
            await respond { try await readPolicy(call(request, context), name: try context.parameters.require("name")) }
        }
        router.get("/v1/acl/policy/:id") { request, context in
            await respond { try await readPolicy(call(request, context), id: try context.parameters.require("id")) }
        }
        router.put("/v1/acl/policy/:id") { request, context in
            await respond { try await writePolicy(call(request, context), id: try context.parameters.require("id")) }
        }
        router.delete("/v1/acl/policy/:id") { request, context in
            await respond { try await deletePolicy(call(request, context), id: try context.parameters.require("id")) }
        }
        router.get("/v1/acl/policies") { request, context in await respond { try await listPolicies(call(request, context)) } }

        router.put("/v1/acl/role") { request, context in await respond { try await writeRole(call(request, context), id: nil) } }
        router.get("/v1/acl/role/name/:name") { request, context in
            await respond { try await readRole(call(request, context), name: try context.parameters.require("name")) }
        }
        router.get("/v1/acl/role/:id") { request, context in
            await respond { try await readRole(call(request, context), id: try context.parameters.require("id")) }
        }
        router.put("/v1/acl/role/:id") { request, context in
            await respond { try await writeRole(call(request, context), id: try context.parameters.require("id")) }
        }
        router.delete("/v1/acl/role/:id") { request, context in
            await respond { try await deleteRole(call(request, context), id: try context.parameters.require("id")) }
        }
        router.get("/v1/acl/roles") { request, context in await respond { try await listRoles(call(request, context)) } }

        registerLoginRoutes(on: router)

        router.get("/v1/acl/replication") { _, _ in Self.response(.ok, json: EdgeRoutes.replicationStatus) }
        // Templated policies grant rights Jaco does not model: an empty catalogue.
        router.get("/v1/acl/templated-policies") { request, context in
            await respond {
                _ = try await call(request, context).caller(needing: .aclRead)
                return Self.response(.ok, json: .object([]))
            }
        }
        HealthRoutes(kernel: kernel).register(on: router)
        router.post("/v1/jaco/revoke-leaked") { request, context in await respond { try await revokeLeaked(call(request, context)) } }

        // A static route, as Consul serves it: the benchmark's baseline.
        router.get("/v1/status/leader") { _, _ in
            Self.response(.ok, json: .string(leaderAddress()))
        }
        // Last: it wraps only the router's not-found answer.
        router.add(middleware: EdgeRoutes.MethodNotAllowedMiddleware(respond: respond))
    }

    func call(_ request: Request, _ context: ConsulRequestContext) -> ConsulCall {
        ConsulCall(request: request, kernel: kernel, throttle: throttle, peer: context.remoteAddress)
    }

    // MARK: - Bootstrap

    private func bootstrap(_ call: ConsulCall) async throws -> Response {
        // Consul 1.14+: `{"BootstrapSecret": "<uuid>"}` chooses the bootstrap token's secret.
        let body = try await call.optionalJSONBody("Bootstrap")
        let secret = try decode("Bootstrap") { () throws(GoStructDecoder.Failure) -> String? in
            guard let body else { return nil }
            let d = try GoStructDecoder(body, structName: "ACLInitialTokenBootstrapRequest", goType: "structs.ACLInitialTokenBootstrapRequest")
            try d.rejectUnknownFields(["BootstrapSecret"])
            let secret = try d.string("BootstrapSecret")
            return secret.isEmpty ? nil : secret
        }
        do {
            let issued = try await kernel.tokens.bootstrap(requestedBy: "consul-api", secret: secret)
            let stored = try await kernel.acl.token(accessorID: issued.token.accessorID)
            var body = tokenJSON(stored ?? Indexed(record: issued.token, createIndex: 0, modifyIndex: 0), secret: issued.secret)
            // Consul's bootstrap answer also carries the secret as the legacy `ID`.
            if case .object(let members) = body { body = .object([("ID", .string(issued.secret))] + members) }
            return Self.response(.ok, json: body)
        } catch let error as JacoError where error.code == .alreadyInitialized {
            let index = try await kernel.acl.bootstrapIndex() ?? 0
            throw ConsulHTTPError(status: .forbidden, message: "Permission denied: ACL bootstrap no longer allowed (reset index: \(index))", code: .alreadyInitialized)
        }
    }

    // MARK: - Tokens

    private func createToken(_ call: ConsulCall) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        let body = try await call.jsonBody("Token")
        var request = try decode("Token") { () throws(GoStructDecoder.Failure) in try ConsulJSON.tokenRequest(body) }
        request.namespace = try call.namespace(body: body)
        let issued = try await kernel.acl.createToken(request, by: caller)
        return try await writtenToken(issued.token.accessorID, namespace: request.namespace, secret: issued.secret)
    }

    private func readSelf(_ call: ConsulCall) async throws -> Response {
        guard call.secret != nil else { throw ConsulHTTPError.aclNotFound }
        let caller = try await call.caller()
        return try await blockingRead(call, .tokens) {
            guard let entry = try await kernel.acl.token(accessorID: caller.accessorID, namespace: "*") else { throw ConsulHTTPError.aclNotFound }
            return tokenJSON(entry, secret: nil)
        }
    }

    private func readToken(_ call: ConsulCall, id: String) async throws -> Response {
        if id == "self" { return try await readSelf(call) }
        _ = try await call.caller(needing: .aclRead)
        let namespace = try call.namespace()
        return try await blockingRead(call, .tokens) {
            guard let entry = try await kernel.acl.token(accessorID: id, namespace: namespace) else { throw ConsulHTTPError.aclNotFound }
            let json = tokenJSON(entry, secret: nil)
            return call.flag("expanded") ? try await expandedTokenJSON(json, record: entry.record) : json
        }
    }

    private func updateToken(_ call: ConsulCall, id: String) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        let body = try await call.jsonBody("Token")
        var request = try decode("Token") { () throws(GoStructDecoder.Failure) in try ConsulJSON.tokenRequest(body) }
        request.namespace = try call.namespace(body: body)
        let token = try await kernel.acl.updateToken(accessorID: id, request, by: caller)
        return try await writtenToken(token.accessorID, namespace: token.namespace, secret: nil)
    }

    private func cloneToken(_ call: ConsulCall, id: String) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        let body = try await call.optionalJSONBody("Token")
        let request = try body.map { body in try decode("Token") { () throws(GoStructDecoder.Failure) in try ConsulJSON.tokenRequest(body) } }
        let namespace = try call.namespace(body: body)
        let issued = try await kernel.acl.cloneToken(accessorID: id, description: request?.description, namespace: namespace, by: caller)
        return try await writtenToken(issued.token.accessorID, namespace: namespace, secret: issued.secret)
    }

    private func deleteToken(_ call: ConsulCall, id: String) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        // Consul answers true whether or not it existed (agent/consul/acl_endpoint.go TokenDelete,
        // RoleDelete: a missing record "return nil"); nothing is written or audited then.
        _ = try await kernel.acl.deleteToken(accessorID: id, namespace: try call.namespace(), by: caller)
        return Self.response(.ok, json: .bool(true))
    }

    private func listTokens(_ call: ConsulCall) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        var filter = TokenFilter()
        let query = call.request.uri.queryParameters
        filter.policyID = query["policy"].map(String.init) ?? ""
        filter.roleID = query["role"].map(String.init) ?? ""
        filter.authMethod = query["authmethod"].map(String.init) ?? ""
        filter.serviceName = query["servicename"].map(String.init) ?? ""
        let given = [filter.policyID, filter.roleID, filter.authMethod, filter.serviceName].filter { !$0.isEmpty }.count
        if given > 1 {
            // Consul's state store refuses the combination (agent/consul/state/acl.go aclTokenList).
            throw ConsulHTTPError.plainBadRequest("can only filter by one of policy, role, serviceName, or methodName at a time")
        }
        filter.namespace = try call.namespace(allowWildcard: true)
        let (kernel, names, size, filterBy) = (kernel, linkNames(), Self.listPageSize, filter)
        return try await blockingList(call, .tokens) { after in
            // Each page's last-use times under one cache lock, not one lock a row.
            let page = try await kernel.acl.tokens(matching: filterBy, after: after, limit: size)
            let lastUsed = kernel.cache.lastUsed(accessorIDs: page.items.map(\.record.accessorID))
            return ListPage(items: Array(zip(page.items, lastUsed)), next: page.next)
        } render: { item, out in
            let (entry, lastUsed) = item
            ConsulJSON.writeToken(entry, names: names, hash: kernel.acl.hash(of: entry.record), lastUsed: lastUsed, to: &out)
        }
    }

    /// The token as stored after a write, with the new secret when there is one.
    func writtenToken(_ accessorID: String, namespace: String, secret: String?) async throws -> Response {
        guard let entry = try await kernel.acl.token(accessorID: accessorID, namespace: namespace) else {
            throw ConsulHTTPError(status: .internalServerError, message: "Failed to retrieve token after insertion", code: .storageFailure)
        }
        return Self.response(.ok, json: tokenJSON(entry, secret: secret))
    }

    private func tokenJSON(_ entry: Indexed<Token>, secret: String?) -> JSONValue {
        ConsulJSON.token(
            entry, secret: secret, names: linkNames(), hash: kernel.acl.hash(of: entry.record), lastUsed: kernel.cache.lastUsed(accessorID: entry.record.accessorID))
    }

    func linkNames() -> LinkNames {
        let names = kernel.acl.linkNames()
        return LinkNames(policies: names.policies, roles: names.roles)
    }

    // MARK: - Policies

    private func writePolicy(_ call: ConsulCall, id: String?) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        let body = try await call.jsonBody("Policy")
        let request = try decode("Policy") { () throws(GoStructDecoder.Failure) in try ConsulJSON.policyRequest(body) }
        _ = try call.namespace(body: body)
        let policy = try await kernel.acl.writePolicy(id: id, request, by: caller)
        guard let entry = try await kernel.acl.policy(id: policy.id) else { throw ConsulHTTPError(status: .internalServerError, message: "Failed to retrieve the policy after writing it", code: .storageFailure) }
        return Self.response(.ok, json: ConsulJSON.policy(entry, hash: kernel.acl.hash(of: entry.record)))
    }

    private func readPolicy(_ call: ConsulCall, id: String? = nil, name: String? = nil) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        _ = try call.namespace()
        return try await blockingRead(call, .policies) {
            let found = if let id { try await kernel.acl.policy(id: id) } else { try await kernel.acl.policy(name: name ?? "") }
            guard let entry = found else { throw ConsulHTTPError.aclNotFound }
            return ConsulJSON.policy(entry, hash: kernel.acl.hash(of: entry.record))
        }
    }

    private func deletePolicy(_ call: ConsulCall, id: String) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        _ = try await kernel.acl.deletePolicy(id: id, by: caller)
        return Self.response(.ok, json: .bool(true))
    }

    private func listPolicies(_ call: ConsulCall) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        _ = try call.namespace(allowWildcard: true)
        let (kernel, size) = (kernel, Self.listPageSize)
        return try await blockingList(call, .policies) { after in
            try await kernel.acl.policies(after: after, limit: size)
        } render: { entry, out in
            ConsulJSON.policy(entry, hash: kernel.acl.hash(of: entry.record), stub: true).write(to: &out)
        }
    }

    // MARK: - Roles

    private func writeRole(_ call: ConsulCall, id: String?) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        let body = try await call.jsonBody("Role")
        let request = try decode("Role") { () throws(GoStructDecoder.Failure) in try ConsulJSON.roleRequest(body) }
        _ = try call.namespace(body: body)
        let role = try await kernel.acl.writeRole(id: id, request, by: caller)
        guard let entry = try await kernel.acl.role(id: role.id) else { throw ConsulHTTPError(status: .internalServerError, message: "Failed to retrieve the role after writing it", code: .storageFailure) }
        return Self.response(.ok, json: ConsulJSON.role(entry, names: linkNames(), hash: kernel.acl.hash(of: entry.record)))
    }

    private func readRole(_ call: ConsulCall, id: String? = nil, name: String? = nil) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        _ = try call.namespace()
        return try await blockingRead(call, .roles) {
            let found = if let id { try await kernel.acl.role(id: id) } else { try await kernel.acl.role(name: name ?? "") }
            // Consul answers a missing role with an empty 404 (agent/acl_endpoint.go ACLRoleRead).
            guard let entry = found else { throw ConsulHTTPError(status: .notFound, message: "", code: .notFound) }
            return ConsulJSON.role(entry, names: linkNames(), hash: kernel.acl.hash(of: entry.record))
        }
    }

    private func deleteRole(_ call: ConsulCall, id: String) async throws -> Response {
        let caller = try await call.caller(needing: .aclWrite)
        _ = try await kernel.acl.deleteRole(id: id, by: caller)
        return Self.response(.ok, json: .bool(true))
    }

    private func listRoles(_ call: ConsulCall) async throws -> Response {
        _ = try await call.caller(needing: .aclRead)
        _ = try call.namespace(allowWildcard: true)
        let policyID = call.request.uri.queryParameters["policy"].map(String.init) ?? ""
        let (kernel, names, size) = (kernel, linkNames(), Self.listPageSize)
        return try await blockingList(call, .roles) { after in
            try await kernel.acl.roles(policyID: policyID, after: after, limit: size)
        } render: { entry, out in
            ConsulJSON.role(entry, names: names, hash: kernel.acl.hash(of: entry.record)).write(to: &out)
        }
    }

    // MARK: - Plumbing

    /// Serves a read: with `?index=` it first waits (woken by the change feed) until `resource`
    /// changes past that index or `?wait=` runs out. Sets Consul's query-meta headers.
    func blockingRead(_ call: ConsulCall, _ resource: ACLResource, _ read: () async throws -> JSONValue) async throws -> Response {
        let (index, consistency) = try await waitForChange(call, resource)
        return withQueryMeta(Self.response(.ok, json: try await read()), index: index, consistency: consistency)
    }

    /// A blocking list whose JSON array is streamed (chunked), one page of the store at a time, so
    /// the daemon's memory does not grow with the number of records. The first page is read
    /// before the answer starts, so a failure there still gets its status code; `page` reads
    /// the page after a cursor and `render` appends one item's JSON.
    func blockingList<Item: Sendable>(
        _ call: ConsulCall, _ resource: ACLResource, _ page: @escaping @Sendable (_ after: String?) async throws -> ListPage<Item>,
        render: @escaping @Sendable (Item, inout [UInt8]) -> Void
    ) async throws -> Response {
        let (index, consistency) = try await waitForChange(call, resource)
        let first = try await page(nil)
        let body = ResponseBody { writer in
            var current = first
            var written = 0
            var out: [UInt8] = [UInt8(ascii: "[")]
            while true {
                for item in current.items {
                    if written > 0 { out.append(UInt8(ascii: ",")) }
                    render(item, &out)
                    written += 1
                }
                guard let next = current.next else { break }
                try await writer.write(ByteBuffer(bytes: out))
                out.removeAll(keepingCapacity: true)
                current = try await page(next)
            }
            out.append(UInt8(ascii: "]"))
            try await writer.write(ByteBuffer(bytes: out))
            try await writer.finish(nil)
        }
        let response = Response(status: .ok, headers: [.contentType: "application/json"], body: body)
        return withQueryMeta(response, index: index, consistency: consistency)
    }

    /// Waits as a blocking query asks (`?index=&wait=`), then returns the resource's index,
    /// taken before the read so the data is at least as new as it says.
    private func waitForChange(_ call: ConsulCall, _ resource: ACLResource) async throws -> (index: StoreIndex, consistency: String) {
        let options = try call.readOptions()
        // Past `max_blocking_queries` a query answers at once, as if its wait had run out:
        // clients poll again, and connections stay free for other calls.
        if options.index > 0, kernel.cache.index(of: resource) <= options.index, blockingQueries.admit() {
            defer { blockingQueries.release() }
            let cache = kernel.cache
            await drain.run { _ = await cache.waitForChange(of: resource, after: options.index, timeout: options.wait) }
        }
        return (max(1, kernel.cache.index(of: resource)), options.consistency)
    }

    private func withQueryMeta(_ response: Response, index: StoreIndex, consistency: String) -> Response {
        var response = response
        response.headers[ConsulCall.Header.index] = String(index)
        response.headers[ConsulCall.Header.knownLeader] = "true"
        response.headers[ConsulCall.Header.lastContact] = "0"
        response.headers[ConsulCall.Header.consistency] = consistency
        // Jaco's anonymous token grants nothing unless a policy is linked to it: "deny".
        response.headers[ConsulCall.Header.defaultACLPolicy] = "deny"
        return response
    }

    func decode<T>(_ what: String, _ body: () throws(GoStructDecoder.Failure) -> T) throws(ConsulHTTPError) -> T {
        do {
            return try body()
        } catch {
            throw .badRequest("\(what) decoding failed: \(error.message)")
        }
    }

    /// Runs a handler; every error becomes Consul's plain-text error answer.
    func respond(_ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let error as ConsulHTTPError {
            kernel.metrics.countDenial(error.code)
            var response = Self.response(error.status, text: EchoedInput.bounded(error.message))
            if let retryAfter = error.retryAfter { response.headers[.retryAfter] = String(retryAfter.components.seconds) }
            return response
        } catch let error as JacoError {
            kernel.metrics.countDenial(error.code)
            let mapped = ConsulHTTPError(error)
            var response = Self.response(mapped.status, text: EchoedInput.bounded(mapped.message))
            if let retryAfter = mapped.retryAfter { response.headers[.retryAfter] = String(retryAfter.components.seconds) }
            return response
        } catch let error as HTTPError {
            return Self.response(error.status, text: error.body ?? "\(error.status)")
        } catch {
            return Self.response(.internalServerError, text: "\(error)")
        }
    }

    static func response(_ status: HTTPResponse.Status, json: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }

    static func response(_ status: HTTPResponse.Status, text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
