import Foundation
import JWTKit
import JacoKernel

/// Consul's `jwt` auth method type: a login presents a JWT signed by a key the method knows
/// (static PEM keys, a JWKS URL, or an OIDC issuer's discovery document), whose claims pass
/// the method's checks; its mapped claims become the login's binding-rule fields. RS*, PS*,
/// ES* and EdDSA signatures, verified by JWTKit; `alg: none` and HMAC are refused.
public struct JWTAuthMethodType: AuthMethodType {
    /// `jwt`, as a method's `Type` names it.
    public let name = "jwt"
    /// The longest JWT accepted.
    static let maxLength = 16 * 1024
    private let keySets = KeySets()
    private let clock: @Sendable () -> Date

    /// A `jwt` type checking times against `clock`.
    public init(clock: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
    }

    /// Checks the config, and that its JWKS or discovery document can be fetched and read.
    public func validate(_ method: AuthMethod) async throws {
        let config = try JWTMethodConfig(json: method.config)
        guard config.validationPubKeys.isEmpty else { return }
        do {
            _ = try await KeySets.fetch(config, version: 0)
        } catch {
            let key = config.jwksURL.isEmpty ? "OIDCDiscoveryURL" : "JWKSURL"
            throw JacoError(.validationFailed, "error checking \(key): \(error.message)")
        }
    }

    /// The fields of the method's claim mappings, empty.
    public func blankIdentity(for method: AuthMethod) throws -> VerifiedIdentity {
        try JWTMethodConfig(json: method.config).blankIdentity
    }

    /// Checks the JWT's algorithm, signature and claims in that order; the first check that
    /// fails is named in the `permission_denied` it throws.
    public func verify(_ credential: String, for method: AuthMethod, modifyIndex: StoreIndex) async throws -> VerifiedIdentity {
        let config = try JWTMethodConfig(json: method.config)
        let jwt = try UnverifiedJWT(credential)
        var keys: [VerificationKey]
        var providerIssuer: String? = nil
        var allowed = config.supportedAlgs
        if jwt.alg == "none" { throw denied("the JWT is unsigned (alg \"none\")") }
        guard JWTMethodConfig.algorithms.contains(jwt.alg) else {
            throw denied("the JWT is signed with \(jwt.alg.quotedKey); a jwt auth method verifies \(JWTMethodConfig.algorithms.joined(separator: ", "))")
        }
        if config.validationPubKeys.isEmpty {
            let set = try await keySets.keys(method: method.name, version: modifyIndex, config: config, kid: jwt.kid)
            if let issuer = set.issuer {
                providerIssuer = issuer
                // go-oidc's default: the provider's advertised algorithms, else RS256.
                if allowed.isEmpty { allowed = set.algorithms.isEmpty ? ["RS256"] : set.algorithms }
            }
            try checkAllowed(jwt.alg, allowed)
            keys = set.keys.map(VerificationKey.jwk)
            if let kid = jwt.kid {
                keys = set.keys.filter { $0.keyIdentifier?.string == kid }.map(VerificationKey.jwk)
                if keys.isEmpty { throw denied("no key in the auth method's key set has the JWT's kid \(kid.quotedKey)") }
            }
        } else {
            try checkAllowed(jwt.alg, allowed)
            keys = config.staticKeys
        }
        var verified = false
        for key in keys where key.algorithms.contains(jwt.alg) {
            if await key.verifies(credential, alg: jwt.alg) {
                verified = true
                break
            }
        }
        if !verified { throw denied("the JWT's signature does not verify with any of the auth method's keys for \(jwt.alg)") }
        guard let claims = try? JSONSerialization.jsonObject(with: jwt.payload) as? [String: Any] else {
            throw denied("the JWT's payload is not a JSON object")
        }
        let checks = ClaimChecks(config: config, providerIssuer: providerIssuer)
        try checks.check(claims, now: clock())
        return try checks.identity(from: claims)
    }

    private func checkAllowed(_ alg: String, _ allowed: [String]) throws(JacoError) {
        if !allowed.isEmpty && !allowed.contains(alg) {
            throw denied("the JWT is signed with \(alg.quotedKey), which the auth method does not accept (JWTSupportedAlgs: \(allowed.joined(separator: ", ")))")
        }
    }

    private func denied(_ why: String) -> JacoError { JacoError(.permissionDenied, "login refused: \(why)") }
}

/// A JWT split and its header read, before any check: what picks the key.
struct UnverifiedJWT {
    var alg: String
    var kid: String?
    var payload: Data

    init(_ token: String) throws(JacoError) {
        guard token.utf8.count <= JWTAuthMethodType.maxLength else {
            throw JacoError(.permissionDenied, "login refused: the JWT is longer than \(JWTAuthMethodType.maxLength) bytes")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.base64URL(parts[0]), let payload = Self.base64URL(parts[1]),
            let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any]
        else {
            throw JacoError(.permissionDenied, "login refused: the bearer token is not a JWT (three base64url parts, a JSON header)")
        }
        guard let alg = header["alg"] as? String else { throw JacoError(.permissionDenied, "login refused: the JWT's header has no alg") }
        self.alg = alg
        self.kid = header["kid"] as? String
        self.payload = payload
    }

    static func base64URL(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
