import CJacoOpenSSL
import Foundation
import JacoKernel

/// `[hashing] provider = "openssl"`: SHA-256 from the system's OpenSSL 3 instead of swift-crypto.
public enum OpenSSLHasherPlugin {
    /// The provider name in `[hashing] provider`.
    public static let provider = "openssl"

    /// The factory for `algorithm = "sha256"` (the only one this provider serves).
    public static let factories: [HasherFactory] = [
        HasherFactory(algorithm: "sha256", provider: provider, keys: []) { section, _ in
            do { return try sha256() } catch let error as JacoError { throw section.error(error.message) }
        }
    ]

    /// A plain SHA-256 hasher on OpenSSL, checked against a known digest first.
    public static func sha256() throws(JacoError) -> any SecretHasher {
        let hasher = OpenSSLSHA256Hasher()
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        var known = Digest256.zero
        var works = false
        Array("abc".utf8).withUnsafeBytes { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
                works = jaco_openssl_sha256(bytes.baseAddress, bytes.count, out.baseAddress) == 1
                if works { known = Digest256(bytes: UnsafeRawBufferPointer(out)) }
            }
        }
        guard works, known.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" else {
            throw JacoError(.configInvalid, "OpenSSL (\(version)) cannot compute SHA-256 here\(works ? " correctly" : ""); use [hashing] provider = \"swift-crypto\"")
        }
        return hasher
    }

    /// The library's version text.
    public static var version: String { String(cString: jaco_openssl_version()) }

    /// The OpenSSL provider that serves SHA-256 ("default", or "fips" where the system
    /// configures the FIPS provider), for the start-up log.
    public static var sha256Provider: String? { jaco_openssl_sha256_provider().map { String(cString: $0) } }
}
