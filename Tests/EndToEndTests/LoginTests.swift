import Foundation
import JacoTestKit
import NIOHTTP1
import Testing

/// JWT login end to end: the real daemon, its Consul API over HTTPS, JWTs signed in the test by
/// generated keys, and an identity provider served over HTTPS by the test with its own CA.
@Suite("JWT auth methods, binding rules and login end to end")
struct LoginTests {
    static let issuer = "https://issuer.example"

    /// Creates the policy `acl-reader` (acl = read) and the role `ci-role` linking it.
    static func readerRole(_ consul: ConsulClient, _ management: String) async throws {
        _ = try await ConsulTokenAPITests.policy(consul, management, name: "acl-reader", rules: #"acl = "read""#)
        let role = try await consul.put("/v1/acl/role", token: management, body: #"{"Name": "ci-role", "Policies": [{"Name": "acl-reader"}]}"#)
        try #require(role.status == 200, "\(role.body)")
    }

    static func login(_ consul: ConsulClient, method: String, jwt: String, meta: String = "null") async throws -> ConsulClient.Answer {
        try await consul.send(.POST, "/v1/acl/login", body: #"{"AuthMethod": "\#(method)", "BearerToken": "\#(jwt)", "Meta": \#(meta)}"#)
    }

    static func loginTokens(_ consul: ConsulClient, _ management: String, method: String) async throws -> [[String: Any]] {
        try await consul.get("/v1/acl/tokens?authmethod=\(method)", token: management).objects
    }

    @Test("A JWKS method: rules of each bind type, rights of login tokens, every refusal, a key rotation, logout, delete")
    func jwksLogin() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-jwks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let idp = try await JWKSServer(directory: directory)
        let first = try await TestSigningKey.rsa(kid: "k1")
        idp.serve("/jwks", TestSigningKey.jwks([first]))
        try await withConsulDaemon { _, consul, management in
            try await Self.readerRole(consul, management)
            let config = #"{"JWKSURL": "\#(idp.base)/jwks", "JWKSCACert": \#(jsonLiteral(idp.caPEM)), "BoundIssuer": "\#(Self.issuer)", "BoundAudiences": ["jaco"], "ClaimMappings": {"namespace": "namespace", "sub": "subject"}, "ListClaimMappings": {"groups": "groups"}}"#
            let created = try await consul.put("/v1/acl/auth-method", token: management, body: #"{"Name": "ci", "Type": "jwt", "DisplayName": "CI jobs", "MaxTokenTTL": "10m", "Config": \#(config)}"#)
            try #require(created.status == 200, "\(created.body)")
            #expect(created.object["MaxTokenTTL"] as? String == "10m0s")
            #expect((created.object["Config"] as? [String: Any])?["BoundIssuer"] as? String == Self.issuer)
            let listed = try await consul.get("/v1/acl/auth-methods", token: management)
            #expect(listed.objects.map { $0["Name"] as? String } == ["ci"])
            #expect(listed.objects.first?["Config"] == nil, "a list holds stubs, without Config")

            for (selector, type, name) in [
                (#"value.namespace == ci and \"deployers\" in list.groups"#, "role", "ci-role"),
                ("value.namespace == ci", "service", "svc-${value.subject}"),
                (#"\"admins\" in list.groups"#, "policy", "acl-reader"),
            ] {
                let rule = try await consul.put("/v1/acl/binding-rule", token: management, body: #"{"AuthMethod": "ci", "Selector": "\#(selector)", "BindType": "\#(type)", "BindName": "\#(name)"}"#)
                try #require(rule.status == 200, "\(rule.body)")
                #expect(rule.object["BindType"] as? String == type)
            }
            #expect(try await consul.get("/v1/acl/binding-rules?authmethod=ci", token: management).objects.count == 3)

            // A deployer's login: the role and the service identity, expiring with MaxTokenTTL.
            let answer = try await Self.login(consul, method: "ci", jwt: try await first.sign(.valid(iss: Self.issuer)), meta: #"{"job": "7"}"#)
            try #require(answer.status == 200, "\(answer.body)")
            let token = answer.object
            #expect(token["AuthMethod"] as? String == "ci")
            #expect(token["Description"] as? String == #"token created via login: {"job":"7"}"#)
            #expect((token["Roles"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } == ["ci-role"])
            #expect((token["ServiceIdentities"] as? [[String: Any]])?.compactMap { $0["ServiceName"] as? String } == ["svc-build-7"])
            #expect(token["Policies"] == nil)
            #expect(token["Local"] as? Bool == true)
            let expires = try #require((token["ExpirationTime"] as? String).flatMap { ISO8601DateFormatter().date(from: $0.replacingOccurrences(of: #"\.\d+"#, with: "", options: .regularExpression)) })
            #expect(abs(expires.timeIntervalSinceNow - 600) < 30)
            let secret = try #require(token["SecretID"] as? String)
            // Its rights are the role's: acl:read, not acl:write.
            #expect(try await consul.get("/v1/acl/token/self", token: secret).object["AuthMethod"] as? String == "ci")
            #expect(try await consul.get("/v1/acl/policies", token: secret).status == 200)
            #expect(try await consul.put("/v1/acl/policy", token: secret, body: #"{"Name": "nope"}"#).status == 403)

            // An admin from another namespace: only the policy rule matches.
            let admin = try await Self.login(consul, method: "ci", jwt: try await first.sign(.valid(iss: Self.issuer, namespace: "ops", groups: ["admins"])))
            try #require(admin.status == 200, "\(admin.body)")
            #expect((admin.object["Policies"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } == ["acl-reader"])
            #expect(admin.object["Roles"] == nil && admin.object["ServiceIdentities"] == nil)
            #expect(try await Self.loginTokens(consul, management, method: "ci").count == 2)

            // Every refusal: 403 naming the check, and nothing stored.
            let other = try await TestSigningKey.rsa(kid: "k1")
            let now = Int(Date().timeIntervalSince1970)
            var expired = TestClaims.valid(iss: Self.issuer)
            (expired.exp, expired.iat, expired.nbf) = (now - 3600, now - 7200, now - 7200)
            var early = TestClaims.valid(iss: Self.issuer)
            (early.nbf, early.iat) = (now + 3600, now)
            let refusals: [(String, String, String)] = [
                ("expired", try await first.sign(expired), "has expired"),
                ("not yet valid", try await first.sign(early), "not valid yet"),
                ("another audience", try await first.sign(.valid(iss: Self.issuer, aud: ["someone-else"])), "BoundAudiences"),
                ("another issuer", try await first.sign(.valid(iss: "https://evil.example")), "BoundIssuer"),
                ("wrongly signed", try await other.sign(.valid(iss: Self.issuer)), "signature does not verify"),
                ("alg none", try unsignedJWT(.valid(iss: Self.issuer)), #"alg "none""#),
                ("no rule matches", try await first.sign(.valid(iss: Self.issuer, namespace: "prod", groups: [])), "no binding rule"),
                ("not a JWT", "not-a-jwt", "not a JWT"),
            ]
            for (what, jwt, reason) in refusals {
                let refused = try await Self.login(consul, method: "ci", jwt: jwt)
                #expect(refused.status == 403, "\(what): \(refused.status) \(refused.body)")
                #expect(refused.body.hasPrefix("Permission denied: ") && refused.body.contains(reason), "\(what): \(refused.body)")
                #expect(!refused.body.contains(jwt), "\(what): the credential is echoed")
            }
            let unknown = try await Self.login(consul, method: "no-such-method", jwt: try await first.sign(.valid(iss: Self.issuer)))
            #expect(unknown.status == 403 && unknown.body == #"ACL not found: auth method "no-such-method" not found"#, "\(unknown.body)")
            #expect(try await Self.loginTokens(consul, management, method: "ci").count == 2)

            // The provider rotates to a new EC key: a JWT naming the new kid makes Jaco refetch.
            let second = try await TestSigningKey.es256(kid: "k2")
            idp.serve("/jwks", TestSigningKey.jwks([second]))
            let fetchesBefore = idp.fetches(of: "/jwks")
            try await Task.sleep(for: .milliseconds(1100))  // the least time between refetches
            let rotated = try await Self.login(consul, method: "ci", jwt: try await second.sign(.valid(iss: Self.issuer)))
            #expect(rotated.status == 200, "\(rotated.body)")
            #expect(idp.fetches(of: "/jwks") == fetchesBefore + 1)
            // A burst of JWTs naming a kid the provider never had: one fetch for all of them.
            let stranger = try await TestSigningKey.es256(kid: "unknown-kid")
            try await Task.sleep(for: .milliseconds(1100))
            let strangerJWT = try await stranger.sign(.valid(iss: Self.issuer))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { try await Self.login(consul, method: "ci", jwt: strangerJWT).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 403, count: 8))
            #expect(idp.fetches(of: "/jwks") == fetchesBefore + 2, "one refetch for the burst, not one per login")

            // Logout deletes the caller's login token; a token not made by login cannot log out.
            #expect(try await consul.send(.POST, "/v1/acl/logout", token: secret).body == "true")
            #expect(try await consul.get("/v1/acl/token/self", token: secret).status == 403)
            let notLogin = try await consul.send(.POST, "/v1/acl/logout", token: management)
            #expect(notLogin.status == 403, "\(notLogin.body)")
            #expect(try await consul.send(.POST, "/v1/acl/logout").status == 403)

            // Deleting the method deletes its rules and its tokens.
            let adminSecret = try #require(admin.object["SecretID"] as? String)
            #expect(try await consul.delete("/v1/acl/auth-method/ci", token: management).body == "true")
            #expect(try await consul.get("/v1/acl/auth-method/ci", token: management).status == 404)
            #expect(try await consul.get("/v1/acl/binding-rules", token: management).objects.isEmpty)
            #expect(try await Self.loginTokens(consul, management, method: "ci").isEmpty)
            #expect(try await consul.get("/v1/acl/token/self", token: adminSecret).status == 403)
        }
        try await idp.stop()
    }

    @Test("Static keys (EdDSA, ES256) and OIDC discovery; bad configs and rules are refused by name")
    func staticKeysAndDiscovery() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-oidc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let idp = try await JWKSServer(directory: directory)
        let rsa = try await TestSigningKey.rsa(kid: "r1")
        idp.serve("/.well-known/openid-configuration", #"{"issuer": "\#(idp.base)", "jwks_uri": "\#(idp.base)/keys", "id_token_signing_alg_values_supported": ["RS256"]}"#)
        idp.serve("/keys", TestSigningKey.jwks([rsa]))
        let ed = try await TestSigningKey.eddsa(kid: "e1")
        let ec = try await TestSigningKey.es256(kid: "c1")
        try await withConsulDaemon { _, consul, management in
            try await Self.readerRole(consul, management)
            let keys = [ed.publicPEM, ec.publicPEM].map(jsonLiteral).joined(separator: ",")
            let statics = try await consul.put("/v1/acl/auth-method", token: management, body: #"{"Name": "static", "Type": "jwt", "Config": {"JWTValidationPubKeys": [\#(keys)], "BoundAudiences": ["jaco"], "ClaimMappings": {"namespace": "namespace"}}}"#)
            try #require(statics.status == 200, "\(statics.body)")
            let discovery = try await consul.put("/v1/acl/auth-method", token: management, body: #"{"Name": "oidc", "Type": "jwt", "Config": {"OIDCDiscoveryURL": "\#(idp.base)", "OIDCDiscoveryCACert": \#(jsonLiteral(idp.caPEM)), "BoundAudiences": ["jaco"], "ClaimMappings": {"namespace": "namespace"}}}"#)
            try #require(discovery.status == 200, "\(discovery.body)")
            for method in ["static", "oidc"] {
                let rule = try await consul.put("/v1/acl/binding-rule", token: management, body: #"{"AuthMethod": "\#(method)", "Selector": "value.namespace != prod", "BindType": "role", "BindName": "ci-role"}"#)
                try #require(rule.status == 200, "\(rule.body)")
            }
            for key in [ed, ec] {
                let answer = try await Self.login(consul, method: "static", jwt: try await key.sign(.valid(iss: "anyone")))
                #expect(answer.status == 200, "\(key.kid): \(answer.body)")
            }
            let viaDiscovery = try await Self.login(consul, method: "oidc", jwt: try await rsa.sign(.valid(iss: idp.base)))
            #expect(viaDiscovery.status == 200, "\(viaDiscovery.body)")
            let foreignIssuer = try await Self.login(consul, method: "oidc", jwt: try await rsa.sign(.valid(iss: "https://elsewhere.example")))
            #expect(foreignIssuer.status == 403 && foreignIssuer.body.contains("OIDC provider"), "\(foreignIssuer.body)")
            // ES256 is not among the provider's algorithms.
            let wrongAlg = try await Self.login(consul, method: "oidc", jwt: try await ec.sign(.valid(iss: idp.base)))
            #expect(wrongAlg.status == 403 && wrongAlg.body.contains("ES256"), "\(wrongAlg.body)")

            // Bad methods and rules: 400 naming what is wrong; nothing stored.
            let badMethods: [(String, String)] = [
                (#"{"Name": "k8s", "Type": "kubernetes", "Config": {}}"#, "not supported"),
                (#"{"Name": "browser", "Type": "oidc", "Config": {}}"#, "not supported"),
                (#"{"Name": "odd", "Type": "ldap", "Config": {}}"#, "Type should be one of: [jwt]"),
                (#"{"Name": "plain", "Type": "jwt", "Config": {"JWKSURL": "http://127.0.0.1:1/jwks"}}"#, "https://"),
                (#"{"Name": "both", "Type": "jwt", "Config": {"JWKSURL": "https://127.0.0.1:1/jwks", "JWTValidationPubKeys": [\#(jsonLiteral(ec.publicPEM))]}}"#, "exactly one of"),
                (#"{"Name": "gone", "Type": "jwt", "Config": {"JWKSURL": "https://127.0.0.1:1/jwks"}}"#, "error checking JWKSURL"),
                (#"{"Name": "nokey", "Type": "jwt", "Config": {"JWTValidationPubKeys": ["not a key"]}}"#, "JWTValidationPubKeys[0]"),
                (#"{"Name": "typo", "Type": "jwt", "Config": {"JWTValidationPubkeys": []}}"#, "JWTValidationPubkeys"),
                (#"{"Name": "alg", "Type": "jwt", "Config": {"JWTValidationPubKeys": [\#(jsonLiteral(ec.publicPEM))], "JWTSupportedAlgs": ["HS256"]}}"#, "HS256"),
                (#"{"Name": "bad name!", "Type": "jwt", "Config": {}}"#, "invalid Name"),
            ]
            for (body, reason) in badMethods {
                let refused = try await consul.put("/v1/acl/auth-method", token: management, body: body)
                #expect(refused.status == 400 && refused.body.contains(reason), "\(body): \(refused.status) \(refused.body)")
            }
            let badRules: [(String, String)] = [
                (#"{"AuthMethod": "static", "Selector": "value.team == a", "BindType": "role", "BindName": "x"}"#, "value.team"),
                (#"{"AuthMethod": "static", "Selector": "value.namespace ==", "BindType": "role", "BindName": "x"}"#, "Selector is invalid"),
                (#"{"AuthMethod": "static", "BindType": "node", "BindName": "x"}"#, "not supported"),
                (#"{"AuthMethod": "static", "BindType": "role", "BindName": "${value.team}"}"#, "value.team"),
                (#"{"AuthMethod": "static", "BindType": "service", "BindName": "Not Valid"}"#, "invalid BindName"),
                (#"{"AuthMethod": "missing", "BindType": "role", "BindName": "x"}"#, "cannot find auth method"),
            ]
            for (body, reason) in badRules {
                let refused = try await consul.put("/v1/acl/binding-rule", token: management, body: body)
                #expect(refused.status == 400 && refused.body.contains(reason), "\(body): \(refused.status) \(refused.body)")
            }
            #expect(try await consul.get("/v1/acl/auth-methods", token: management).objects.count == 2)
            #expect(try await consul.get("/v1/acl/binding-rules", token: management).objects.count == 2)
        }
        try await idp.stop()
    }

    @Test("A method holds at most [tokens] max_login_tokens_per_method live tokens; logout and expiry free room", arguments: ["memory.toml", "sqlite.toml", "lmdb.toml"])
    func loginTokenBound(engine: String) async throws {
        let config = try editedConfig(engine, [], appending: "\n[tokens]\nmax_login_tokens_per_method = 2\n")
        let key = try await TestSigningKey.es256(kid: "c1")
        // The shortest MaxTokenTTL is a minute; tests may lower it.
        try await withConsulDaemon(config: config.path, environment: ["JACO_TEST_MIN_EXPIRATION_TTL": "1"]) { _, consul, management in
            for (name, ttl) in [("ci", "0s"), ("short", "6s")] {
                let method = try await consul.put("/v1/acl/auth-method", token: management, body: #"{"Name": "\#(name)", "Type": "jwt", "MaxTokenTTL": "\#(ttl)", "Config": {"JWTValidationPubKeys": [\#(jsonLiteral(key.publicPEM))], "BoundAudiences": ["jaco"]}}"#)
                try #require(method.status == 200, "\(method.body)")
                let rule = try await consul.put("/v1/acl/binding-rule", token: management, body: #"{"AuthMethod": "\#(name)", "BindType": "service", "BindName": "web"}"#)
                try #require(rule.status == 200, "\(rule.body)")
            }
            func login(_ method: String) async throws -> ConsulClient.Answer {
                try await Self.login(consul, method: method, jwt: try await key.sign(.valid(iss: "x")))
            }
            var secrets: [String] = []
            for _ in 0..<2 {
                let answer = try await login("ci")
                try #require(answer.status == 200, "\(answer.body)")
                secrets.append(try #require(answer.object["SecretID"] as? String))
            }
            let third = try await login("ci")
            #expect(third.status == 429 && third.body.contains("max_login_tokens_per_method"), "\(third.status) \(third.body)")
            #expect(third.header("Retry-After") != nil)
            #expect(try await Self.loginTokens(consul, management, method: "ci").count == 2)
            #expect(try await consul.send(.POST, "/v1/acl/logout", token: secrets[0]).status == 200)
            #expect(try await login("ci").status == 200)
            #expect(try await login("ci").status == 429)

            // Expired tokens free their place at once, reaped or not; the bound holds for new ones.
            for _ in 0..<2 { #expect(try await login("short").status == 200) }
            try await Task.sleep(for: .seconds(6.2))
            for _ in 0..<2 { #expect(try await login("short").status == 200) }
            #expect(try await login("short").status == 429)
        }
    }

    @Test("jaco login over gRPC prints a secret; jaco token list shows login tokens with their method; jaco logout")
    func cliLogin() async throws {
        let key = try await TestSigningKey.rsa(kid: "r1")
        let jwtFile = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-jwt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: jwtFile) }
        try await withConsulDaemon { daemon, consul, management in
            try await Self.readerRole(consul, management)
            let method = try await consul.put("/v1/acl/auth-method", token: management, body: #"{"Name": "ci", "Type": "jwt", "MaxTokenTTL": "1h", "Config": {"JWTValidationPubKeys": [\#(jsonLiteral(key.publicPEM))], "BoundAudiences": ["jaco"], "ClaimMappings": {"namespace": "namespace"}}}"#)
            try #require(method.status == 200, "\(method.body)")
            let rule = try await consul.put("/v1/acl/binding-rule", token: management, body: #"{"AuthMethod": "ci", "Selector": "value.namespace == ci", "BindType": "role", "BindName": "ci-role"}"#)
            try #require(rule.status == 200, "\(rule.body)")
            try (try await key.sign(.valid(iss: "x"))).write(to: jwtFile, atomically: true, encoding: .utf8)

            let login = try await daemon.jaco(["login", "--method", "ci", "--jwt-file", jwtFile.path, "--meta", "job=42", "-o", "json"])
            try #require(login.status == 0, "\(login.stderr)")
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(login.stdout.utf8)) as? [String: Any])
            let secret = try #require(answer["secret"] as? String)
            let accessor = try #require(answer["accessor_id"] as? String)
            #expect(answer["auth_method"] as? String == "ci" && answer["expires_at"] is String)
            // The login token has the role's acl:read: it may list tokens, and sees itself by method.
            let listed = try await daemon.jaco(["token", "list", "--method", "ci"], token: secret)
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.stdout.contains("\(accessor) (login: ci)"), "\(listed.stdout)")
            let json = try await daemon.jaco(["token", "list", "--all", "-o", "json"], token: management)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            #expect(rows.first { $0["accessor_id"] as? String == accessor }?["auth_method"] as? String == "ci")
            #expect(rows.filter { $0["auth_method"] as? String == "ci" }.count == 1)

            // Refusals reach the CLI with their reason and a non-zero exit; nothing is stored.
            try unsignedJWT(.valid(iss: "x")).write(to: jwtFile, atomically: true, encoding: .utf8)
            let refused = try await daemon.jaco(["login", "--method", "ci", "--jwt-file", jwtFile.path])
            #expect(refused.status != 0 && refused.stderr.contains("permission_denied") && refused.stderr.contains("unsigned"), "\(refused.stderr)")
            let missing = try await daemon.jaco(["login", "--method", "ci", "--jwt-file", "/nonexistent/jwt"])
            #expect(missing.status != 0 && missing.stderr.contains("no such file"), "\(missing.stderr)")
            let unknown = try await daemon.jaco(["login", "--method", "nope", "--jwt-file", jwtFile.path])
            #expect(unknown.status != 0 && unknown.stderr.contains("not found"), "\(unknown.stderr)")

            // consul login's flag names: the secret goes to a file, mode 0600, not to stdout.
            try (try await key.sign(.valid(iss: "x"))).write(to: jwtFile, atomically: true, encoding: .utf8)
            let sink = jwtFile.path + ".token"
            defer { try? FileManager.default.removeItem(atPath: sink) }
            let sunk = try await daemon.jaco(["login", "--method", "ci", "--bearer-token-file", jwtFile.path, "--token-sink-file", sink])
            #expect(sunk.status == 0 && sunk.stdout.contains("written to \(sink)"), "\(sunk.stderr)")
            let sunkSecret = try String(contentsOfFile: sink, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(sunkSecret.hasPrefix("jaco_") && !sunk.stdout.contains(sunkSecret))
            #expect(try FileManager.default.attributesOfItem(atPath: sink)[.posixPermissions] as? Int == 0o600)
            #expect(try await consul.get("/v1/acl/token/self", token: sunkSecret).object["AuthMethod"] as? String == "ci")
            let badSink = try await daemon.jaco(["login", "--method", "ci", "--jwt-file", jwtFile.path, "--token-sink-file", "/nonexistent/dir/token"])
            #expect(badSink.status != 0 && badSink.stderr.contains("--token-sink-file"), "\(badSink.stderr)")

            let logout = try await daemon.jaco(["logout"], token: secret)
            #expect(logout.status == 0, "\(logout.stderr)")
            #expect(try await consul.get("/v1/acl/token/self", token: secret).status == 403)
            let notLogin = try await daemon.jaco(["logout"], token: management)
            #expect(notLogin.status != 0 && notLogin.stderr.contains("permission_denied"), "\(notLogin.stderr)")
            let metrics = try ConsulClient(base: daemon.metricsBase, caCertificate: daemon.caCertificate)
            let scrape = try await MetricsHealthTests.scrape(metrics)
            try await metrics.shutdown()
            #expect(scrape["jaco_writes_total{type=\"login\"}"] == 2 && scrape["jaco_writes_total{type=\"logout\"}"] == 1)
        }
    }

    @Test("Consul's documented payloads round-trip: the jwt static-keys config, a binding rule created then updated without AuthMethod")
    func consulPayloadsRoundTrip() async throws {
        let key = try await TestSigningKey.es256(kid: "c1")
        try await withConsulDaemon { _, consul, management in
            // Consul's docs (security/acl/auth-methods/jwt, "Static Keys"), with a real key.
            let config = #"{"BoundIssuer": "corp-issuer", "JWTValidationPubKeys": [\#(jsonLiteral(key.publicPEM))], "ClaimMappings": {"http://example.com/first_name": "first_name", "http://example.com/last_name": "last_name"}, "ListClaimMappings": {"http://example.com/groups": "groups"}}"#
            let created = try await consul.put("/v1/acl/auth-method", token: management, body: #"{"Name": "corp", "Type": "jwt", "Description": "corp SSO", "TokenLocality": "global", "Config": \#(config)}"#)
            try #require(created.status == 200, "\(created.body)")
            let read = try await consul.get("/v1/acl/auth-method/corp", token: management)
            let sent = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? NSDictionary)
            #expect((read.object["Config"] as? NSDictionary) == sent)
            #expect(read.object["TokenLocality"] as? String == "global" && read.object["Description"] as? String == "corp SSO")
            #expect(read.object["CreateIndex"] as? Int == created.object["CreateIndex"] as? Int)

            // api-docs/acl/binding-rules: create, then the update payload, which leaves AuthMethod out.
            let rule = try await consul.put("/v1/acl/binding-rule", token: management, body: #"{"Description": "example rule", "AuthMethod": "corp", "Selector": "value.last_name==\"\"", "BindType": "service", "BindName": "${value.first_name}"}"#)
            try #require(rule.status == 200, "\(rule.body)")
            let id = try #require(rule.object["ID"] as? String)
            let updated = try await consul.put("/v1/acl/binding-rule/\(id)", token: management, body: #"{"Description": "updated rule", "Selector": "\"admins\" in list.groups", "BindType": "role", "BindName": "corp-${value.first_name}"}"#)
            try #require(updated.status == 200, "\(updated.body)")
            #expect(updated.object["AuthMethod"] as? String == "corp" && updated.object["ID"] as? String == id)
            #expect((updated.object["ModifyIndex"] as? Int ?? 0) > (updated.object["CreateIndex"] as? Int ?? 0))
            let again = try await consul.get("/v1/acl/binding-rule/\(id)", token: management)
            for field in ["Description", "AuthMethod", "Selector", "BindType", "BindName"] {
                #expect(again.object[field] as? String == updated.object[field] as? String, "\(field)")
            }
            // A read written back whole is accepted, as Consul's clients do.
            #expect(try await consul.put("/v1/acl/binding-rule/\(id)", token: management, body: again.body).status == 200)
            #expect(try await consul.put("/v1/acl/auth-method/corp", token: management, body: read.body).status == 200)

            // A login with the documented claim names: URL-shaped claims map to fields; the role is
            // "corp-ada" (lowercased) and exists; the token is global, as TokenLocality says.
            _ = try await ConsulTokenAPITests.policy(consul, management, name: "acl-reader", rules: #"acl = "read""#)
            #expect(try await consul.put("/v1/acl/role", token: management, body: #"{"Name": "corp-ada", "Policies": [{"Name": "acl-reader"}]}"#).status == 200)
            let now = Int(Date().timeIntervalSince1970)
            let jwt = try await key.signRaw(#"{"iss": "corp-issuer", "iat": \#(now), "exp": \#(now + 300), "http://example.com/first_name": "Ada", "http://example.com/last_name": "Lovelace", "http://example.com/groups": ["admins", "math"]}"#)
            let login = try await Self.login(consul, method: "corp", jwt: jwt)
            try #require(login.status == 200, "\(login.body)")
            #expect((login.object["Roles"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } == ["corp-ada"])
            #expect(login.object["Local"] as? Bool == false)
        }
    }

    @Test("On etcd, two daemons: a method made on one logs in on the other; the token works on both; logout on one is enforced on the other")
    func loginOnEtcd() async throws {
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        var daemons: [Daemon] = []
        defer { for daemon in daemons { daemon.remove() } }
        for _ in 0..<2 {
            let daemon = try Daemon(config: "etcd.toml", extraArguments: ["--etcd-endpoints", etcd.endpoints])
            try await daemon.start()
            daemons.append(daemon)
        }
        let ca = daemons[0].caCertificate
        let management = try await daemons[0].jaco(["cluster", "init"]).lastWord
        let first = try ConsulClient(base: daemons[0].httpBase, caCertificate: ca)
        let second = try ConsulClient(base: daemons[1].httpBase, caCertificate: ca)
        defer { Task { try? await first.shutdown(); try? await second.shutdown() } }
        let key = try await TestSigningKey.es256(kid: "c1")
        try await Self.readerRole(first, management)
        #expect(try await first.put("/v1/acl/auth-method", token: management, body: #"{"Name": "ci", "Type": "jwt", "MaxTokenTTL": "1h", "Config": {"JWTValidationPubKeys": [\#(jsonLiteral(key.publicPEM))], "BoundAudiences": ["jaco"]}}"#).status == 200)
        #expect(try await first.put("/v1/acl/binding-rule", token: management, body: #"{"AuthMethod": "ci", "BindType": "role", "BindName": "ci-role"}"#).status == 200)

        // The second daemon sees the method through the change feed.
        let login = try await Self.login(second, method: "ci", jwt: try await key.sign(.valid(iss: "x")))
        try #require(login.status == 200, "\(login.body)")
        let secret = try #require(login.object["SecretID"] as? String)
        let both = try await TokenLifecycleTests.eventually(within: 5) {
            try await first.get("/v1/acl/policies", token: secret).status == 200
        }
        #expect(both, "the login token made on the second daemon works on the first")
        #expect(try await first.send(.POST, "/v1/acl/logout", token: secret).body == "true")
        let gone = try await TokenLifecycleTests.eventually(within: 5) {
            try await second.get("/v1/acl/token/self", token: secret).status == 403
        }
        #expect(gone, "the logout on the first daemon is enforced on the second")
    }

    @Test("Refused logins count as failed authentications: past failed_auth_burst the address gets 429 over HTTP and rate_limited over gRPC, even with a good JWT")
    func loginThrottled() async throws {
        let limits = "failed_auth_burst = 3\nfailed_auth_per_second = 0.001"
        let config = try editedConfig("memory.toml", [adding(limits, after: ListenerLine.grpc), adding(limits, after: ListenerLine.consulHTTP)])
        defer { try? FileManager.default.removeItem(at: config) }
        let key = try await TestSigningKey.es256(kid: "c1")
        let jwtFile = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-jwt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: jwtFile) }
        try await withConsulDaemon(config: config.path) { daemon, consul, management in
            #expect(try await consul.put("/v1/acl/auth-method", token: management, body: #"{"Name": "ci", "Type": "jwt", "Config": {"JWTValidationPubKeys": [\#(jsonLiteral(key.publicPEM))], "BoundAudiences": ["jaco"]}}"#).status == 200)
            #expect(try await consul.put("/v1/acl/binding-rule", token: management, body: #"{"AuthMethod": "ci", "BindType": "service", "BindName": "web"}"#).status == 200)
            let good = try await key.sign(.valid(iss: "x"))
            let bad = try unsignedJWT(.valid(iss: "x"))
            for _ in 0..<3 { #expect(try await Self.login(consul, method: "ci", jwt: bad).status == 403) }
            let refused = try await Self.login(consul, method: "ci", jwt: good)
            #expect(refused.status == 429 && refused.header("Retry-After") != nil, "\(refused.status) \(refused.body)")
            // The metrics count them: refused logins as denials, throttled ones as rate_limited.
            let metrics = try ConsulClient(base: daemon.metricsBase, caCertificate: daemon.caCertificate)
            let scrape = try await MetricsHealthTests.scrape(metrics)
            try await metrics.shutdown()
            #expect(scrape["jaco_denials_total{code=\"permission_denied\"}"] == 3)
            #expect(scrape["jaco_denials_total{code=\"rate_limited\"}"] == 1)
            #expect(scrape["jaco_writes_total{type=\"auth_method_create\"}"] == 1)

            // gRPC has its own buckets per listener.
            try bad.write(to: jwtFile, atomically: true, encoding: .utf8)
            for _ in 0..<3 { #expect(try await daemon.jaco(["login", "--method", "ci", "--jwt-file", jwtFile.path]).status != 0) }
            try good.write(to: jwtFile, atomically: true, encoding: .utf8)
            let throttled = try await daemon.jaco(["login", "--method", "ci", "--jwt-file", jwtFile.path])
            #expect(throttled.status != 0 && throttled.stderr.contains("rate_limited"), "\(throttled.stderr)")

        }
    }

    @Test("Auth methods, rules and login tokens survive a snapshot restore (SQLite → LMDB) and a store migration (LMDB → SQLite); logout works after")
    func loginStateMoves() async throws {
        let key = try await TestSigningKey.es256(kid: "c1")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-loginsnap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("jaco.snap").path

        let sqlite = try Daemon(config: "sqlite.toml")
        defer { sqlite.remove() }
        try await sqlite.start()
        let management = try await sqlite.jaco(["cluster", "init"]).lastWord
        let source = try ConsulClient(base: sqlite.httpBase, caCertificate: sqlite.caCertificate)
        #expect(try await source.put("/v1/acl/auth-method", token: management, body: #"{"Name": "ci", "Type": "jwt", "MaxTokenTTL": "1h", "Config": {"JWTValidationPubKeys": [\#(jsonLiteral(key.publicPEM))], "BoundAudiences": ["jaco"]}}"#).status == 200)
        #expect(try await source.put("/v1/acl/binding-rule", token: management, body: #"{"AuthMethod": "ci", "BindType": "service", "BindName": "web"}"#).status == 200)
        let login = try await Self.login(source, method: "ci", jwt: try await key.sign(.valid(iss: "x")))
        let secret = try #require(login.object["SecretID"] as? String)
        // A restore writes every record anew: compare all but the store indexes.
        func withoutIndexes(_ answer: ConsulClient.Answer) -> [NSDictionary] {
            answer.objects.map { object in NSDictionary(dictionary: object.filter { !$0.key.hasSuffix("Index") }) }
        }
        let methods = withoutIndexes(try await source.get("/v1/acl/auth-methods", token: management))
        let rules = withoutIndexes(try await source.get("/v1/acl/binding-rules", token: management))
        #expect(methods.count == 1 && rules.count == 1)
        #expect(try await sqlite.jaco(["snapshot", "save", file], token: management).status == 0)
        let header = try await EndToEndTests.jaco(["snapshot", "inspect", file, "-o", "json"])
        let counts = try #require((try JSONSerialization.jsonObject(with: Data(header.stdout.utf8)) as? [String: Any])?["counts"] as? [String: Int])
        #expect(counts["auth_methods"] == 1 && counts["binding_rules"] == 1, "\(counts)")
        try await source.shutdown()
        #expect(await sqlite.stop() == 0)

        // Restored into a fresh LMDB daemon: the same methods and rules; the login token works.
        let lmdb = try Daemon(config: "lmdb.toml")
        defer { lmdb.remove() }
        try await lmdb.start()
        #expect(try await EndToEndTests.jaco(["snapshot", "restore", file, "--socket", lmdb.socket]).status == 0)
        let restored = try ConsulClient(base: lmdb.httpBase, caCertificate: lmdb.caCertificate)
        #expect(withoutIndexes(try await restored.get("/v1/acl/auth-methods", token: management)) == methods)
        #expect(withoutIndexes(try await restored.get("/v1/acl/binding-rules", token: management)) == rules)
        #expect(try await restored.get("/v1/acl/token/self", token: secret).object["AuthMethod"] as? String == "ci")
        #expect(try await Self.login(restored, method: "ci", jwt: try await key.sign(.valid(iss: "x"))).status == 200)
        try await restored.shutdown()
        #expect(await lmdb.stop() == 0)

        // Migrated offline to SQLite: logout deletes the token and its entry under the method.
        let back = try Daemon(config: "sqlite.toml")
        defer { back.remove() }
        let migrated = try await EndToEndTests.jaco([
            "store", "migrate", "--from", Build.config("lmdb.toml"), "--from-data-dir", lmdb.dataDirectory.path,
            "--to", Build.config("sqlite.toml"), "--to-data-dir", back.dataDirectory.path,
        ])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        try await back.start()
        let final = try ConsulClient(base: back.httpBase, caCertificate: back.caCertificate)
        #expect(withoutIndexes(try await final.get("/v1/acl/binding-rules", token: management)) == rules)
        #expect(try await final.send(.POST, "/v1/acl/logout", token: secret).body == "true")
        #expect(try await Self.loginTokens(final, management, method: "ci").count == 1)
        #expect(try await final.delete("/v1/acl/auth-method/ci", token: management).body == "true")
        #expect(try await Self.loginTokens(final, management, method: "ci").isEmpty)
        try await final.shutdown()
    }
}
