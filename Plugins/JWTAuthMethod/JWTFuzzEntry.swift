import Foundation
import JacoKernel

/// The plugin's parsers of outside bytes, for the `jwt` fuzz target (Fuzz/JacoFuzz): a login's
/// bearer token before any key is tried, its claims through the checks and mappings, and an
/// auth method's `Config`. The first byte picks: even, the rest is a token; odd, a config.
package enum JWTFuzzEntry {
    /// A fixed method config the token's claims are checked against.
    static let config = try? JWTMethodConfig(
        json: #"{"JWKSURL": "https://idp.example/jwks", "BoundIssuer": "https://idp.example", "BoundAudiences": ["jaco"], "ClaimMappings": {"sub": "subject", "/k8s/ns": "namespace"}, "ListClaimMappings": {"groups": "groups"}}"#)

    /// Runs one input; it must return, accepting or refusing, and never crash or hang.
    package static func run(_ bytes: [UInt8]) {
        guard let mode = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        if mode % 2 == 0 {
            guard let jwt = try? UnverifiedJWT(text), let config,
                let claims = try? JSONSerialization.jsonObject(with: jwt.payload) as? [String: Any]
            else { return }
            let checks = ClaimChecks(config: config)
            _ = try? checks.check(claims, now: Date(timeIntervalSince1970: 1_800_000_000))
            _ = try? checks.identity(from: claims)
        } else {
            _ = try? JWTMethodConfig(json: text).blankIdentity
        }
    }
}
