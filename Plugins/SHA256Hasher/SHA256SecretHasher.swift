import Foundation
import Crypto
import JacoKernel

/// Plain SHA-256 of the secret.
struct SHA256SecretHasher: SecretHasher {
    var algorithm: String { "sha256" }

    func digest(ofSecret bytes: UnsafeRawBufferPointer) -> Digest256 {
        contentHash(bytes)
    }

    func contentHash(_ bytes: UnsafeRawBufferPointer) -> Digest256 {
        SHA256.hash(data: bytes).withUnsafeBytes { Digest256(bytes: $0) }
    }
}

/// HMAC-SHA-256 of the secret under a server-side key, so a stolen database alone cannot be
/// used to test guesses offline. Audit events are still hashed with plain SHA-256.
struct HMACSHA256SecretHasher: SecretHasher {
    let key: SymmetricKey

    var algorithm: String { "hmac-sha256" }

    func digest(ofSecret bytes: UnsafeRawBufferPointer) -> Digest256 {
        HMAC<SHA256>.authenticationCode(for: bytes, using: key).withUnsafeBytes { Digest256(bytes: $0) }
    }

    func contentHash(_ bytes: UnsafeRawBufferPointer) -> Digest256 {
        SHA256.hash(data: bytes).withUnsafeBytes { Digest256(bytes: $0) }
    }
}
