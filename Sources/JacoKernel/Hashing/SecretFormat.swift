/// The format of Jaco secrets: `jaco_` + 32 random base62 characters (190 bits from the system
/// CSPRNG) + 6 base62 characters of CRC-32 over the preceding text.
///
/// The prefix makes leaked secrets findable by secret scanners; the checksum catches a typo
/// without a lookup. Consul-style UUID secrets (supplied by Consul API clients) are also accepted.
public enum SecretFormat {
    /// The prefix every generated secret starts with.
    public static let prefix = "jaco_"
    /// Number of random base62 characters.
    public static let randomLength = 32
    /// Number of base62 checksum characters.
    public static let checksumLength = 6
    /// Total length of a generated secret: the prefix's 5 + 32 + 6. A literal, so the verify
    /// path reads a constant rather than a lazily initialised global (tested against the parts).
    public static let length = 43

    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A new secret from the system CSPRNG.
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = Array(prefix.utf8)
        out.reserveCapacity(length)
        while out.count < prefix.utf8.count + randomLength {
            // Eight random bytes per draw from the CSPRNG. Rejection sampling keeps every
            // character uniform: 248 = 4 * 62.
            var word = rng.next()
            for _ in 0..<8 where out.count < prefix.utf8.count + randomLength {
                let byte = UInt8(truncatingIfNeeded: word)
                word >>= 8
                if byte < 248 { out.append(alphabet[Int(byte % 62)]) }
            }
        }
        out += checksumCharacters(of: out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Why a presented secret is not well-formed, or nil when it is.
    public static func problem(with secret: String) -> String? {
        var secret = secret
        return secret.withUTF8 { problem(with: $0) }
    }

    /// Why the UTF-8 bytes of a presented secret are not well-formed, or nil when they are:
    /// the shape (``shapeProblem(of:)``) and then the checksum.
    public static func problem(with bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if let problem = shapeProblem(of: bytes) { return problem }
        if isUUID(bytes) { return nil }
        guard bytes.allSatisfy({ isBase62($0) || $0 == UInt8(ascii: "_") }) else {
            return "the token contains characters that no Jaco token has"
        }
        guard checksum(of: bytes[..<(length - checksumLength)]) == decodeBase62(bytes[(length - checksumLength)...]) else {
            return "the token's checksum does not match; it was mistyped or truncated"
        }
        return nil
    }

    /// Whether `bytes` have a generated secret's length and prefix: the verify path's inlined
    /// first test (``shapeProblem(of:)`` words the problem, and accepts UUIDs as well).
    @inline(__always)
    public static func hasGeneratedShape(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == length, let base = bytes.baseAddress else { return false }
        // "jaco" as one little- or big-endian word, then "_".
        return UnsafeRawPointer(base).loadUnaligned(as: UInt32.self) == UInt32(littleEndian: 0x6F63_616A) && base[4] == UInt8(ascii: "_")
    }

    /// The cheap part of the check: empty, wrong prefix, wrong length. Verification runs only
    /// this before the lookup; the checksum (a typo detector for clients and secret scanners)
    /// only matters on a miss, since a hit is byte-for-byte a secret that was minted well-formed.
    public static func shapeProblem(of bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.isEmpty { return "the token is empty" }
        if bytes.count == 36 { return isUUID(bytes) ? nil : "the token is neither a Jaco token nor a UUID" }
        guard bytes.count >= 5, bytes[0] == UInt8(ascii: "j"), bytes[1] == UInt8(ascii: "a"), bytes[2] == UInt8(ascii: "c"),
            bytes[3] == UInt8(ascii: "o"), bytes[4] == UInt8(ascii: "_")
        else {
            return "the token does not start with '\(prefix)' and is not a UUID"
        }
        guard bytes.count == length else {
            return "the token has \(bytes.count) characters, expected \(length); was it copied whole?"
        }
        return nil
    }

    private static func isBase62(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }

    private static func checksum(of bytes: some Collection<UInt8>) -> UInt64 {
        UInt64(CRC32.checksum(bytes))
    }

    private static func decodeBase62(_ bytes: some Collection<UInt8>) -> UInt64 {
        bytes.reduce(0) { value, c in
            let digit: UInt8 = c <= 57 ? c - 48 : c <= 90 ? c - 55 : c - 61
            return value * 62 + UInt64(digit)
        }
    }

    private static func checksumCharacters(of bytes: some Collection<UInt8>) -> [UInt8] {
        var crc = checksum(of: bytes)
        var out = [UInt8](repeating: alphabet[0], count: checksumLength)
        for i in stride(from: checksumLength - 1, through: 0, by: -1) {
            out[i] = alphabet[Int(crc % 62)]
            crc /= 62
        }
        return out
    }

    /// Whether `text` is an 8-4-4-4-12 hex UUID (either case).
    public static func isUUID(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isUUID($0) }
    }

    /// Whether the bytes are a canonical 8-4-4-4-12 hex UUID.
    static func isUUID(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == 36 else { return false }
        for (i, c) in bytes.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if !(c >= 48 && c <= 57 || c >= 97 && c <= 102 || c >= 65 && c <= 70) {
                return false
            }
        }
        return true
    }
}
