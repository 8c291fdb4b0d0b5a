import Foundation
import HTTPTypes
import Hummingbird
import JacoKernel
import NIOCore

/// One request to the Consul API, read the way Consul reads it: the caller's secret from
/// `X-Consul-Token`, `Authorization: Bearer` or `?token=`; the namespace from the body, `?ns=`
/// or `X-Consul-Namespace`; blocking and consistency options from the query.
struct ConsulCall {
    /// The largest request body accepted.
    static let maxBodyBytes = 1 << 20
    /// The default blocking wait, and the most a client may ask for.
    static let defaultWait: Duration = .seconds(300)
    static let maxWait: Duration = .seconds(600)

    let request: Request
    let kernel: Kernel
    /// The listener's failed-authentication throttle, if any.
    var throttle: AuthThrottle? = nil
    /// The caller's peer, whose IP address the throttle keys on (read only when it needs it).
    var peer: SocketAddress? = nil

    /// Header names, made once.
    enum Header {
        static let token = HTTPField.Name("X-Consul-Token")!
        static let namespace = HTTPField.Name("X-Consul-Namespace")!
        static let index = HTTPField.Name("X-Consul-Index")!
        static let knownLeader = HTTPField.Name("X-Consul-KnownLeader")!
        static let lastContact = HTTPField.Name("X-Consul-LastContact")!
        static let consistency = HTTPField.Name("X-Consul-Effective-Consistency")!
        static let defaultACLPolicy = HTTPField.Name("X-Consul-Default-ACL-Policy")!
    }

    private func query(_ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init)
    }

    /// A boolean query flag as Go's `strconv.ParseBool` reads it (`?expanded`, `?expanded=true`,
    /// `=1`, `=t`); absent or unparsable is false.
    func flag(_ name: String) -> Bool {
        guard request.uri.query != nil, let value = request.uri.queryParameters[Substring(name)] else { return false }
        return ["", "1", "t", "T", "true", "TRUE", "True"].contains(String(value))
    }

    /// The presented secret, if any. As Consul's `parseTokenInternal` (agent/http.go) reads
    /// it: `?token=` first, then `X-Consul-Token`, then `Authorization: Bearer`.
    var secret: String? {
        if request.uri.query != nil, let token = query("token"), !token.isEmpty { return token }
        if let token = request.headers[Header.token], !token.isEmpty { return token }
        if let authorization = request.headers[.authorization] {
            let prefix = "bearer "
            if authorization.lowercased().hasPrefix(prefix) {
                let token = authorization.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
                if !token.isEmpty { return token }
            }
        }
        return nil
    }

    /// Who is calling: the verified token, or the anonymous token without a secret. A secret
    /// that does not verify is `403 ACL not found`; an address that failed too often is `429`
    /// with `Retry-After`.
    func caller() async throws(ConsulHTTPError) -> Principal {
        guard let secret else {
            return kernel.cache.principal(accessorID: BuiltIn.anonymousTokenID) ?? .anonymousWithoutRights
        }
        do throws(JacoError) {
            return try await kernel.tokens.verifyCatchingUp(secret: secret) { secret throws(JacoError) in try verify(secret) }
        } catch where error.code == .rateLimited {
            throw ConsulHTTPError(error)
        } catch {
            // Bootstrap creates the anonymous token: without it, no secret can be known yet.
            throw kernel.cache.principal(accessorID: BuiltIn.anonymousTokenID) == nil ? .notBootstrapped : .aclNotFound
        }
    }

    /// Verifies `secret` through the listener's throttle, if it has one.
    private func verify(_ secret: String) throws(JacoError) -> Principal {
        guard let throttle else { return try kernel.tokens.verify(secret: secret) }
        return try throttle.verify(secret: secret, from: peer?.ipAddress) { secret throws(JacoError) in try kernel.tokens.verify(secret: secret) }
    }

    /// The caller, after checking it holds `right`.
    func caller(needing right: Right) async throws(ConsulHTTPError) -> Principal {
        let principal = try await caller()
        guard principal.holds(right) else { throw .permissionDenied(principal, right) }
        return principal
    }

    /// The namespace: the body's `Namespace`, else `?ns=`, else `X-Consul-Namespace`, else
    /// `default`. `*` (all) only where `allowWildcard`. Every namespace the request names is
    /// checked, also one the body's overrides.
    func namespace(body: JSONValue? = nil, allowWildcard: Bool = false) throws(ConsulHTTPError) -> String {
        let fromQuery = query("ns").flatMap { $0.isEmpty ? nil : $0 }
        let fromHeader = request.headers[Header.namespace].flatMap { $0.isEmpty ? nil : $0 }
        let fromBody = body.flatMap(ConsulJSON.namespace(in:))
        for named in [fromBody, fromQuery, fromHeader].compactMap({ $0 }) { try Self.check(namespace: named, allowWildcard: allowWildcard) }
        return fromBody ?? fromQuery ?? fromHeader ?? "default"
    }

    private static func check(namespace: String, allowWildcard: Bool) throws(ConsulHTTPError) {
        if namespace == "*" {
            guard allowWildcard else { throw .badRequest("Namespace '*' (all) is only valid when listing") }
            return
        }
        let valid = namespace.count <= 64
            && namespace.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
        guard valid else {
            throw .badRequest("Invalid namespace '\(EchoedInput.quote(namespace))': use up to 64 letters, digits, '-' or '_'")
        }
    }

    /// The body as JSON, at most ``maxBodyBytes``; syntax errors are `400 <what> decoding failed: …`
    /// (an empty body is Go's `EOF`).
    func jsonBody(_ what: String) async throws(ConsulHTTPError) -> JSONValue {
        try parse(try await bodyBytes(what), what)
    }

    /// The body, or nil when it is empty or only whitespace (clone accepts no body).
    func optionalJSONBody(_ what: String) async throws(ConsulHTTPError) -> JSONValue? {
        let bytes = try await bodyBytes(what)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        return try parse(bytes, what)
    }

    private func bodyBytes(_ what: String) async throws(ConsulHTTPError) -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await chunk in request.body {
                guard bytes.count + chunk.readableBytes <= Self.maxBodyBytes else {
                    throw ConsulHTTPError.badRequest("\(what) decoding failed: the request body is larger than the limit of \(Self.maxBodyBytes) bytes")
                }
                bytes += chunk.readableBytesView
            }
        } catch let error as ConsulHTTPError {
            throw error
        } catch {
            throw .badRequest("\(what) decoding failed: could not read the request body: \(error)")
        }
        return bytes
    }

    private func parse(_ bytes: [UInt8], _ what: String) throws(ConsulHTTPError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw .badRequest("\(what) decoding failed: \(error.message)")
        }
    }

    /// How a read should be served.
    struct ReadOptions {
        /// `?index=`: block until the data's index is past it (0: do not block).
        var index: StoreIndex = 0
        /// `?wait=`, capped, with jitter added.
        var wait: Duration = ConsulCall.defaultWait
        /// `leader`, `stale` or `consistent`.
        var consistency = "leader"
    }

    /// Reads `?index`, `?wait`, `?stale` and `?consistent`; bad values are a 400 naming them.
    func readOptions() throws(ConsulHTTPError) -> ReadOptions {
        var options = ReadOptions()
        guard request.uri.query != nil else { return options }
        let parameters = request.uri.queryParameters
        let stale = parameters.has("stale")
        let consistent = parameters.has("consistent")
        if stale && consistent { throw .plainBadRequest("Cannot specify ?stale with ?consistent, conflicting semantics.") }
        options.consistency = stale ? "stale" : consistent ? "consistent" : "leader"
        if let text = query("wait"), !text.isEmpty {
            let seconds: TimeInterval
            do { seconds = try GoDuration.parse(text) } catch { throw .plainBadRequest("Invalid wait time: \(error.message)") }
            guard seconds >= 0 else { throw .plainBadRequest("Invalid wait time: '\(EchoedInput.quote(text))' is negative") }
            options.wait = min(.milliseconds(Int64(seconds * 1000)), Self.maxWait)
        }
        if let text = query("index"), !text.isEmpty {
            guard let index = UInt64(text) else { throw .plainBadRequest("Invalid index: '\(EchoedInput.quote(text))' is not an unsigned integer") }
            options.index = index
        }
        // Consul adds up to wait/16 of jitter so that many watchers do not wake at once.
        let jitterMillis = options.wait.components.seconds * 1000 / 16
        if options.index > 0, jitterMillis > 0 { options.wait += .milliseconds(Int64.random(in: 0...jitterMillis)) }
        return options
    }
}
