/// The hashing seam: turns secrets into fixed-size digests, and hashes audit events.
public protocol SecretHasher: Sendable {
    /// The algorithm's config name, e.g. `sha256` or `hmac-sha256`.
    var algorithm: String { get }
    /// The digest stored for a secret (possibly keyed with a server-side key).
    func digest(ofSecret bytes: UnsafeRawBufferPointer) -> Digest256
    /// An unkeyed SHA-256 of arbitrary content; used for the audit hash chain.
    func contentHash(_ bytes: UnsafeRawBufferPointer) -> Digest256
}

extension SecretHasher {
    /// The digest stored for a secret given as a string (its UTF-8 bytes are hashed).
    public func digest(ofSecret secret: String) -> Digest256 {
        var secret = secret
        return secret.withUTF8 { digest(ofSecret: UnsafeRawBufferPointer($0)) }
    }

    /// The content hash of a byte array.
    public func contentHash(_ bytes: [UInt8]) -> Digest256 {
        bytes.withUnsafeBytes { contentHash($0) }
    }
}
