import Foundation
import JWTKit
import JacoKernel

/// A public key a JWT's signature may be checked with: a static PEM key, or a JWKS entry.
/// Signatures are verified by JWTKit; this only decides which key and algorithm to try.
enum VerificationKey: Sendable {
    case rsa(Insecure.RSA.PublicKey)
    case p256(ES256PublicKey), p384(ES384PublicKey), p521(ES512PublicKey)
    case ed25519(EdDSA.PublicKey)
    case jwk(JWK)

    /// A PEM public key (SubjectPublicKeyInfo) or certificate: RSA, EC P-256/384/521 or Ed25519.
    static func parse(pem text: String) throws(JacoError) -> VerificationKey {
        let pem = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard pem.hasPrefix("-----BEGIN ") else { throw JacoError(.validationFailed, "not PEM (no -----BEGIN line)") }
        let isCertificate = pem.hasPrefix("-----BEGIN CERTIFICATE-----")
        if let key = try? isCertificate ? Insecure.RSA.PublicKey(certificatePEM: pem) : Insecure.RSA.PublicKey(pem: pem) { return .rsa(key) }
        if let key = try? isCertificate ? ES256PublicKey(certificate: pem) : ES256PublicKey(pem: pem) { return .p256(key) }
        if let key = try? isCertificate ? ES384PublicKey(certificate: pem) : ES384PublicKey(pem: pem) { return .p384(key) }
        if let key = try? isCertificate ? ES512PublicKey(certificate: pem) : ES512PublicKey(pem: pem) { return .p521(key) }
        if !isCertificate, let key = try? EdDSA.PublicKey(pem: pem) { return .ed25519(key) }
        throw JacoError(.validationFailed, "data does not contain any valid RSA, ECDSA, or ED25519 public keys")
    }

    /// The JWT `alg` values this key can check.
    var algorithms: [String] {
        switch self {
        case .rsa: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
        case .p256: ["ES256"]
        case .p384: ["ES384"]
        case .p521: ["ES512"]
        case .ed25519: ["EdDSA"]
        case .jwk(let jwk):
            if let alg = jwk.algorithm?.rawValue { [alg] }
            else {
                switch jwk.keyType {
                case .rsa: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
                case .ecdsa: jwk.curve.map { ["P-256": ["ES256"], "P-384": ["ES384"], "P-521": ["ES512"]][$0.rawValue] ?? [] } ?? []
                case .octetKeyPair: ["EdDSA"]
                default: []
                }
            }
        }
    }

    /// Whether `token`'s signature verifies with this key under `alg` (already checked to be
    /// one of ``algorithms``).
    func verifies(_ token: String, alg: String) async -> Bool {
        let keys = JWTKeyCollection()
        do {
            switch self {
            case .rsa(let key):
                let digest: DigestAlgorithm = alg.hasSuffix("384") ? .sha384 : alg.hasSuffix("512") ? .sha512 : .sha256
                if alg.hasPrefix("PS") { await keys.add(pss: key, digestAlgorithm: digest) } else { await keys.add(rsa: key, digestAlgorithm: digest) }
            case .p256(let key): await keys.add(ecdsa: key)
            case .p384(let key): await keys.add(ecdsa: key)
            case .p521(let key): await keys.add(ecdsa: key)
            case .ed25519(let key): await keys.add(eddsa: key)
            case .jwk(var jwk):
                // One key per collection: it is the default, whatever `kid` the token names.
                if jwk.keyIdentifier == nil { jwk.keyIdentifier = JWKIdentifier(string: "jaco-unnamed") }
                try await keys.add(jwk: jwk, isDefault: true)
            }
            _ = try await keys.verify(token, as: SignatureOnly.self)
            return true
        } catch {
            return false
        }
    }
}

/// A payload JWTKit decodes nothing from: the claims are read and checked by ``ClaimChecks``
/// from the same (now verified) bytes.
struct SignatureOnly: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
