import Crypto
import Foundation
import JacoKernel

/// The `sha256` (default) and `hmac-sha256` hashing algorithms.
public enum SHA256HasherPlugin {
    /// The shortest HMAC key accepted, in bytes.
    public static let minimumKeyLength = 32

    /// Factories for both algorithms, for the composition root.
    public static let factories: [HasherFactory] = [
        HasherFactory(algorithm: "sha256", keys: []) { _, _ in sha256() },
        HasherFactory(algorithm: "hmac-sha256", keys: ["key_file"]) { section, context in
            guard section.values["key_file"] != nil else {
                throw section.error("'key_file' is required with algorithm 'hmac-sha256': name a file holding at least \(minimumKeyLength) secret bytes")
            }
            let url = try section.path("key_file", default: "", relativeTo: context.dataDirectory)
            let key: Data
            do { key = try Data(contentsOf: url) } catch {
                throw section.error("cannot read the HMAC key file '\(url.path)': \(error.localizedDescription)")
            }
            return try hmacSHA256(key: key, source: url.path)
        },
    ]

    /// A plain SHA-256 hasher.
    public static func sha256() -> any SecretHasher { SHA256SecretHasher() }

    /// An HMAC-SHA-256 hasher keyed with `key` (trailing newlines are ignored).
    public static func hmacSHA256(key: Data, source: String = "the key") throws(JacoError) -> any SecretHasher {
        var bytes = [UInt8](key)
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= minimumKeyLength else {
            throw JacoError(.configInvalid, "\(source) holds \(bytes.count) bytes; an HMAC key needs at least \(minimumKeyLength) (e.g. 'head -c 32 /dev/urandom | base64 > key')")
        }
        return HMACSHA256SecretHasher(key: SymmetricKey(data: bytes))
    }
}
