import Foundation
import JacoKernel

/// The `Config` of a `jwt` auth method, with Consul's keys (agent/consul/authmethod/ssoauth):
/// where the verification keys come from (exactly one of `JWTValidationPubKeys`, `JWKSURL`,
/// `OIDCDiscoveryURL`), which claims a JWT must carry, and how claims map to binding-rule fields.
struct JWTMethodConfig: Sendable {
    /// PEM public keys (RSA, EC or Ed25519; a certificate's key also counts).
    var validationPubKeys: [String] = []
    /// Those keys, parsed once by the config check (a login verifies with these).
    private(set) var staticKeys: [VerificationKey] = []
    /// A JWKS to fetch over HTTPS, and the CA (PEM) its server's certificate chains to.
    var jwksURL = "", jwksCACert = ""
    /// An OIDC issuer whose discovery document names the JWKS, and the CA (PEM) for it.
    var discoveryURL = "", discoveryCACert = ""
    /// The `iss` a JWT must have; empty for any.
    var boundIssuer = ""
    /// `aud` values of which a JWT must carry one; empty: a JWT must carry no audience.
    var boundAudiences: [String] = []
    /// Claim (name or JSON pointer) → `value.<field>`.
    var claimMappings: [String: String] = [:]
    /// Claim (name or JSON pointer) → `list.<field>`.
    var listClaimMappings: [String: String] = [:]
    /// Signature algorithms accepted; empty for every one the keys allow.
    var supportedAlgs: [String] = []
    /// Leeways in seconds: 0 means Consul's default (150, 150, 60), negative means none.
    var expirationLeeway: TimeInterval = 0, notBeforeLeeway: TimeInterval = 0, clockSkewLeeway: TimeInterval = 0

    /// Every algorithm a key can verify here.
    static let algorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
    /// Keys of Consul's `oidc` type, refused for `jwt` with Consul's wording.
    static let oidcOnlyKeys = ["OIDCClientID", "OIDCClientSecret", "OIDCScopes", "OIDCACRValues", "AllowedRedirectURIs", "VerboseOIDCLogging"]
    static let knownKeys = [
        "JWTValidationPubKeys", "JWKSURL", "JWKSCACert", "OIDCDiscoveryURL", "OIDCDiscoveryCACert", "BoundIssuer", "BoundAudiences",
        "ClaimMappings", "ListClaimMappings", "JWTSupportedAlgs", "ExpirationLeeway", "NotBeforeLeeway", "ClockSkewLeeway",
    ]

    /// Parses and checks the config's text (no network). Throws `validation_failed` naming
    /// the key.
    init(json text: String) throws(JacoError) {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw JacoError(.validationFailed, "Config must be a JSON object")
            }
            object = parsed
        } catch let error as JacoError {
            throw error
        } catch {
            throw JacoError(.validationFailed, "Config is not valid JSON")
        }
        for key in object.keys.sorted() where !Self.knownKeys.contains(key) {
            if Self.oidcOnlyKeys.contains(key) { throw JacoError(.validationFailed, "'\(key)' must not be set for type \"jwt\"") }
            throw JacoError(.validationFailed, "error decoding config: unknown key \(key.quotedKey) (valid: \(Self.knownKeys.joined(separator: ", ")))")
        }
        validationPubKeys = try Self.strings(object, "JWTValidationPubKeys")
        jwksURL = try Self.string(object, "JWKSURL")
        jwksCACert = try Self.string(object, "JWKSCACert")
        discoveryURL = try Self.string(object, "OIDCDiscoveryURL")
        discoveryCACert = try Self.string(object, "OIDCDiscoveryCACert")
        boundIssuer = try Self.string(object, "BoundIssuer")
        boundAudiences = try Self.strings(object, "BoundAudiences")
        claimMappings = try Self.map(object, "ClaimMappings")
        listClaimMappings = try Self.map(object, "ListClaimMappings")
        supportedAlgs = try Self.strings(object, "JWTSupportedAlgs")
        expirationLeeway = try Self.duration(object, "ExpirationLeeway")
        notBeforeLeeway = try Self.duration(object, "NotBeforeLeeway")
        clockSkewLeeway = try Self.duration(object, "ClockSkewLeeway")
        try check()
    }

    /// Consul's rules (internal/go-sso/oidcauth/config.go Validate), without the network.
    private mutating func check() throws(JacoError) {
        let sources = [!validationPubKeys.isEmpty, !jwksURL.isEmpty, !discoveryURL.isEmpty].filter { $0 }.count
        if sources != 1 {
            throw JacoError(.validationFailed, "exactly one of 'JWTValidationPubKeys', 'JWKSURL', or 'OIDCDiscoveryURL' must be set for type \"jwt\"")
        }
        if jwksURL.isEmpty && !jwksCACert.isEmpty { throw JacoError(.validationFailed, "'JWKSCACert' should not be set unless 'JWKSURL' is set") }
        if discoveryURL.isEmpty && !discoveryCACert.isEmpty {
            throw JacoError(.validationFailed, "'OIDCDiscoveryCACert' should not be set unless 'OIDCDiscoveryURL' is set")
        }
        for (key, url) in [("JWKSURL", jwksURL), ("OIDCDiscoveryURL", discoveryURL)] where !url.isEmpty {
            try Self.requireHTTPS(url, key: key)
        }
        for (index, pem) in validationPubKeys.enumerated() {
            do {
                staticKeys.append(try VerificationKey.parse(pem: pem))
            } catch {
                throw JacoError(.validationFailed, "error parsing public key JWTValidationPubKeys[\(index)]: \(error.message)")
            }
        }
        for (key, pem) in [("JWKSCACert", jwksCACert), ("OIDCDiscoveryCACert", discoveryCACert)] where !pem.isEmpty {
            if let problem = KeyFetcher.problem(withCA: pem) { throw JacoError(.validationFailed, "error checking \(key): \(problem)") }
        }
        for alg in supportedAlgs where !Self.algorithms.contains(alg) {
            throw JacoError(.validationFailed, "Invalid supported algorithm: \(alg.quotedKey) (valid: \(Self.algorithms.joined(separator: ", ")))")
        }
        for (name, mappings) in [("ClaimMappings", claimMappings), ("ListClaimMappings", listClaimMappings)] {
            var seen = Set<String>()
            for target in mappings.keys.sorted().map({ mappings[$0]! }) {
                if target.isEmpty { throw JacoError(.validationFailed, "\(name) maps a claim to an empty field name") }
                if !seen.insert(target).inserted { throw JacoError(.validationFailed, "\(name) contains multiple mappings for key \(target.quotedKey)") }
            }
        }
    }

    /// The fields every login of such a method has.
    var blankIdentity: VerifiedIdentity {
        VerifiedIdentity(
            values: Dictionary(claimMappings.values.map { ($0, "") }, uniquingKeysWith: { a, _ in a }),
            lists: Dictionary(listClaimMappings.values.map { ($0, [String]()) }, uniquingKeysWith: { a, _ in a }))
    }

    static func requireHTTPS(_ url: String, key: String) throws(JacoError) {
        guard let parsed = URL(string: url), parsed.scheme?.lowercased() == "https", let host = parsed.host, !host.isEmpty else {
            throw JacoError(.validationFailed, "\(key) must be an https:// URL (was \(url.quotedKey)): keys are fetched over HTTPS only")
        }
    }

    // MARK: - Reading keys

    private static func string(_ object: [String: Any], _ key: String) throws(JacoError) -> String {
        guard let value = object[key], !(value is NSNull) else { return "" }
        guard let text = value as? String else { throw JacoError(.validationFailed, "error decoding config: \(key) must be a string") }
        return text
    }

    /// A list of strings; a single string counts as a list of one (Consul decodes weakly).
    private static func strings(_ object: [String: Any], _ key: String) throws(JacoError) -> [String] {
        guard let value = object[key], !(value is NSNull) else { return [] }
        if let text = value as? String { return [text] }
        guard let list = value as? [Any], let texts = list as? [String] else {
            throw JacoError(.validationFailed, "error decoding config: \(key) must be a list of strings")
        }
        return texts
    }

    private static func map(_ object: [String: Any], _ key: String) throws(JacoError) -> [String: String] {
        guard let value = object[key], !(value is NSNull) else { return [:] }
        guard let map = value as? [String: Any], let texts = map as? [String: String] else {
            throw JacoError(.validationFailed, "error decoding config: \(key) must be an object of strings (claim → field)")
        }
        return texts
    }

    /// Go's `time.Duration` in JSON: nanoseconds; a duration string (`"150s"`) is accepted too.
    private static func duration(_ object: [String: Any], _ key: String) throws(JacoError) -> TimeInterval {
        guard let value = object[key], !(value is NSNull) else { return 0 }
        if let text = value as? String {
            do { return try GoDuration.parse(text) } catch { throw JacoError(.validationFailed, "error decoding config: \(key): \(error.message)") }
        }
        guard let number = value as? NSNumber else {
            throw JacoError(.validationFailed, "error decoding config: \(key) must be a duration (nanoseconds, or a string such as \"150s\")")
        }
        return number.doubleValue / 1e9
    }
}

extension String {
    /// The text in double quotes, bounded and escaped, for an error message.
    var quotedKey: String { "\"\(EchoedInput.quote(self))\"" }
}
