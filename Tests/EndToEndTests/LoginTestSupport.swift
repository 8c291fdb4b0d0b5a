import CryptoExtras
import Foundation
import JWTKit

/// The claims a test JWT carries (nil ones are left out).
struct TestClaims: JWTPayload {
    var iss: String? = nil
    var sub: String? = nil
    var aud: [String]? = nil
    var exp: Int? = nil
    var nbf: Int? = nil
    var iat: Int? = nil
    var namespace: String? = nil
    var groups: [String]? = nil

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// Claims valid for ten minutes from now.
    static func valid(iss: String, aud: [String] = ["jaco"], sub: String = "build-7", namespace: String? = "ci", groups: [String]? = ["deployers"]) -> TestClaims {
        let now = Int(Date().timeIntervalSince1970)
        return TestClaims(iss: iss, sub: sub, aud: aud, exp: now + 600, nbf: now - 5, iat: now - 5, namespace: namespace, groups: groups)
    }
}

/// A signing key of an identity provider, with its public half as a JWK and PEM.
struct TestSigningKey: Sendable {
    let kid: String
    let keys: JWTKeyCollection
    /// The public key as a JWKS entry (JSON object text).
    let jwk: String
    /// The public key, PEM.
    let publicPEM: String

    static func rsa(kid: String) async throws -> TestSigningKey {
        let key = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let keys = JWTKeyCollection()
        await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let (n, e) = try key.publicKey.getKeyPrimitives()
        let jwk = #"{"kty":"RSA","kid":"\#(kid)","alg":"RS256","use":"sig","n":"\#(n.base64URL)","e":"\#(e.base64URL)"}"#
        return TestSigningKey(kid: kid, keys: keys, jwk: jwk, publicPEM: key.publicKey.pemRepresentation)
    }

    static func es256(kid: String) async throws -> TestSigningKey {
        let key = ES256PrivateKey()
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        let (x, y) = key.publicKey.parameters!
        let jwk = #"{"kty":"EC","kid":"\#(kid)","crv":"P-256","alg":"ES256","x":"\#(x)","y":"\#(y)"}"#
        return TestSigningKey(kid: kid, keys: keys, jwk: jwk, publicPEM: key.publicKey.pemRepresentation)
    }

    static func eddsa(kid: String) async throws -> TestSigningKey {
        let key = try EdDSA.PrivateKey(curve: .ed25519)
        let keys = JWTKeyCollection()
        await keys.add(eddsa: key, kid: JWKIdentifier(string: kid))
        let jwk = #"{"kty":"OKP","kid":"\#(kid)","crv":"Ed25519","alg":"EdDSA","x":"\#(key.publicKey.rawRepresentation.base64URL)"}"#
        return TestSigningKey(kid: kid, keys: keys, jwk: jwk, publicPEM: key.publicKey.pemRepresentation)
    }

    /// `claims` signed with this key, `kid` in the header.
    func sign(_ claims: TestClaims) async throws -> String {
        try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// A JWT of the claims in `json` (an object's text), signed with this key: for claim names
    /// no Swift type spells, such as `http://example.com/groups`.
    func signRaw(_ json: String) async throws -> String {
        try await keys.sign(RawClaims(json: json), kid: JWKIdentifier(string: kid))
    }

    /// A JWKS of `keys`.
    static func jwks(_ keys: [TestSigningKey]) -> String { #"{"keys":[\#(keys.map(\.jwk).joined(separator: ","))]}"# }
}

extension Data {
    /// Base64url without padding.
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// An unsigned JWT (`alg: none`) with `claims`.
func unsignedJWT(_ claims: TestClaims) throws -> String {
    let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URL
    return header + "." + (try JSONEncoder().encode(claims)).base64URL + "."
}

/// A string as a JSON string literal.
func jsonLiteral(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
}

/// Claims given as JSON text, encoded as they are.
struct RawClaims: JWTPayload {
    var json: String

    init(json: String) { self.json = json }
    init(from decoder: any Decoder) throws { json = "{}" }

    func encode(to encoder: any Encoder) throws {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
        var container = encoder.container(keyedBy: AnyKey.self)
        for (key, value) in object {
            let name = AnyKey(stringValue: key)
            switch value {
            case let text as String: try container.encode(text, forKey: name)
            case let list as [String]: try container.encode(list, forKey: name)
            case let number as NSNumber: try container.encode(number.int64Value, forKey: name)
            default: break
            }
        }
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
