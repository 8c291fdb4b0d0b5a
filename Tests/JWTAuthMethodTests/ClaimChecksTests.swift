import Foundation
@testable import JWTAuthMethod
import JacoKernel
import Testing

@Suite("jwt auth method: config, claim checks and claim mappings")
struct ClaimChecksTests {
    static let pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENRw6ZwlBOx5XZKjcc1HhU00sDehc\n8nqeeSnRZLv89yT7M7qUOFDtR29FR/AFUSAEOFl1iIYLqNMElHs2VkgAZA==\n-----END PUBLIC KEY-----"

    static func config(_ extra: String = "") throws -> JWTMethodConfig {
        try JWTMethodConfig(json: #"{"JWTValidationPubKeys": [\#(String(decoding: try JSONSerialization.data(withJSONObject: pem, options: .fragmentsAllowed), as: UTF8.self))]\#(extra)}"#)
    }

    static func refusal(_ checks: ClaimChecks, _ claims: [String: Any], at now: TimeInterval) -> String? {
        do {
            try checks.check(claims, now: Date(timeIntervalSince1970: now))
            return nil
        } catch {
            return error.message
        }
    }

    @Test("Times as Consul's go-sso checks them: defaults for a missing exp or nbf, leeways, -1 for none")
    func times() throws {
        let checks = ClaimChecks(config: try Self.config())
        let t0: TimeInterval = 1_800_000_000
        #expect(Self.refusal(checks, [:], at: t0)?.contains("no issue time") == true)
        // Only iat: it expires 150 s later (plus the 60 s clock skew).
        #expect(Self.refusal(checks, ["iat": t0], at: t0 + 200) == nil)
        #expect(Self.refusal(checks, ["iat": t0], at: t0 + 211)?.contains("has expired") == true)
        // nbf in the future: within the 60 s skew it passes.
        #expect(Self.refusal(checks, ["nbf": t0 + 30, "exp": t0 + 600], at: t0) == nil)
        #expect(Self.refusal(checks, ["nbf": t0 + 90, "exp": t0 + 600], at: t0)?.contains("not valid yet") == true)
        #expect(Self.refusal(checks, ["iat": t0 + 120, "exp": t0 + 600], at: t0)?.contains("not valid yet") == true, "no nbf: it is iat")
        #expect(Self.refusal(checks, ["iat": t0 + 120, "nbf": t0 - 10, "exp": t0 + 600], at: t0)?.contains("issued in the future") == true)
        // Leeways disabled: no grace at all.
        let strict = ClaimChecks(config: try Self.config(#", "ExpirationLeeway": -1, "ClockSkewLeeway": "-1s""#))
        #expect(Self.refusal(strict, ["iat": t0], at: t0 + 1)?.contains("has expired") == true)
        #expect(Self.refusal(strict, ["iat": t0, "exp": t0 + 10], at: t0 + 11)?.contains("has expired") == true)
        #expect(Self.refusal(checks, ["exp": "soon"], at: t0)?.contains("not a number") == true)
        // Found by fuzzing: an iat of 1.6e18 trapped while the refusal formatted the time.
        #expect(Self.refusal(checks, ["iat": 1.5999e18, "exp": t0 + 600], at: t0)?.contains("plausible") == true)
        #expect(Self.refusal(checks, ["exp": -1e300], at: t0)?.contains("plausible") == true)
        #expect(Date(timeIntervalSince1970: 1e300).rfc3339.hasSuffix("Z") && Date(timeIntervalSince1970: -1e300).rfc3339.hasSuffix("Z"))
    }

    @Test("Issuer and audiences; with no BoundAudiences a JWT that names an audience is refused")
    func issuerAndAudience() throws {
        let t0: TimeInterval = 1_800_000_000
        let claims: [String: Any] = ["iss": "https://a", "aud": ["x", "y"], "exp": t0 + 60]
        #expect(Self.refusal(ClaimChecks(config: try Self.config(#", "BoundIssuer": "https://a", "BoundAudiences": ["y"]"#)), claims, at: t0) == nil)
        #expect(Self.refusal(ClaimChecks(config: try Self.config(#", "BoundIssuer": "https://b""#)), claims, at: t0)?.contains("BoundIssuer") == true)
        #expect(Self.refusal(ClaimChecks(config: try Self.config(#", "BoundAudiences": ["z"]"#)), claims, at: t0)?.contains("BoundAudiences") == true)
        #expect(Self.refusal(ClaimChecks(config: try Self.config()), claims, at: t0)?.contains("binds none") == true)
        // Discovery (a provider issuer): audiences are checked only when bound.
        #expect(Self.refusal(ClaimChecks(config: try Self.config(), providerIssuer: "https://a"), claims, at: t0) == nil)
        #expect(Self.refusal(ClaimChecks(config: try Self.config(), providerIssuer: "https://c"), claims, at: t0)?.contains("OIDC provider") == true)
    }

    @Test("Claim mappings: names, JSON pointers, numbers and booleans as text, single values as lists")
    func mappings() throws {
        let checks = ClaimChecks(config: try Self.config(#", "ClaimMappings": {"/k8s/ns": "namespace", "n": "count", "f": "ratio", "b": "flag", "http://example.com/first_name": "first", "absent": "missing"}, "ListClaimMappings": {"groups": "groups", "one": "one"}"#))
        let identity = try checks.identity(from: [
            "k8s": ["ns": "ci"], "n": 3, "f": 2.5, "b": true, "http://example.com/first_name": "Ada", "groups": ["a", 1, false], "one": "solo",
        ])
        #expect(identity.values == ["namespace": "ci", "count": "3", "ratio": "2.5", "flag": "true", "first": "Ada", "missing": ""])
        #expect(identity.lists == ["groups": ["a", "1", "false"], "one": ["solo"]])
        #expect(throws: JacoError.self) { try checks.identity(from: ["n": ["nested": true]]) }
    }

    @Test("Config: Consul's rules, named", arguments: [
        (#"{}"#, "exactly one of"),
        (#"{"JWKSURL": "https://x/jwks", "OIDCDiscoveryURL": "https://x"}"#, "exactly one of"),
        (#"{"JWKSURL": "http://x/jwks"}"#, "https://"),
        (#"{"OIDCDiscoveryURL": "https://x", "JWKSCACert": "pem"}"#, "'JWKSCACert' should not be set"),
        (#"{"JWKSURL": "https://x/jwks", "JWKSCACert": "not pem"}"#, "error checking JWKSCACert"),
        (#"{"JWKSURL": "https://x/jwks", "OIDCClientID": "a"}"#, "must not be set for type"),
        (#"{"JWKSURL": "https://x/jwks", "Bogus": 1}"#, "unknown key \"Bogus\""),
        (#"{"JWKSURL": "https://x/jwks", "JWTSupportedAlgs": ["HS256"]}"#, "Invalid supported algorithm"),
        (#"{"JWKSURL": "https://x/jwks", "ClaimMappings": {"a": "f", "b": "f"}}"#, "multiple mappings"),
        (#"{"JWKSURL": "https://x/jwks", "ExpirationLeeway": "soon"}"#, "ExpirationLeeway"),
        (#"{"JWKSURL": "https://x/jwks", "BoundAudiences": 3}"#, "BoundAudiences"),
        (#"["JWKSURL"]"#, "JSON object"),
    ])
    func configErrors(json: String, reason: String) {
        #expect {
            _ = try JWTMethodConfig(json: json)
        } throws: { error in
            (error as? JacoError)?.message.contains(reason) == true
        }
    }

    @Test("Leeways in nanoseconds or as duration strings; a single audience string is a list of one")
    func configValues() throws {
        let config = try JWTMethodConfig(json: #"{"JWKSURL": "https://x/jwks", "ExpirationLeeway": 30000000000, "NotBeforeLeeway": "2m", "BoundAudiences": "jaco"}"#)
        #expect(config.expirationLeeway == 30 && config.notBeforeLeeway == 120 && config.boundAudiences == ["jaco"])
    }

    @Test("A bearer token that is not a JWT is refused before any key is tried")
    func notAJWT() {
        for token in ["abc", "a.b", "a.b.c.d", "e30.e30.", String(repeating: "a", count: 20_000) + ".e30.x"] {
            #expect(throws: JacoError.self) { try UnverifiedJWT(token) }
        }
    }
}
