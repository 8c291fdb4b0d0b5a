import CJacoOpenSSL
import Foundation
import JacoKernel

/// Plain SHA-256 with the system OpenSSL (libcrypto 3): the same digests as the swift-crypto
/// hasher, byte for byte, faster on this machine (the algorithm is fetched once, and each thread
/// reuses one digest context).
struct OpenSSLSHA256Hasher: SecretHasher {
    var algorithm: String { "sha256" }

    func digest(ofSecret bytes: UnsafeRawBufferPointer) -> Digest256 {
        contentHash(bytes)
    }

    func contentHash(_ bytes: UnsafeRawBufferPointer) -> Digest256 {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
            // Checked at start-up (the factory hashes a known vector), so a failure here means
            // the library broke mid-run: nothing sensible can be returned.
            guard jaco_openssl_sha256(bytes.baseAddress, bytes.count, out.baseAddress) == 1 else {
                fatalError("OpenSSL SHA-256 failed after it worked at start-up")
            }
            return Digest256(bytes: UnsafeRawBufferPointer(out))
        }
    }
}
