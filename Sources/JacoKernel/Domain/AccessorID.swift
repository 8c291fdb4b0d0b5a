/// A token's accessor ID in 17 bytes: a lowercase 8-4-4-4-12 UUID (what Jaco and Consul mint) as
/// its 128 bits, anything else as the string itself. The verification cache holds one per
/// token: as strings, a million of them would take ~80 MB of string storage.
enum AccessorID: Hashable, Sendable {
    case uuid(UInt64, UInt64)
    case text(String)

    /// The compact form of `text`; it turns back into exactly `text`.
    init(_ text: String) {
        var text = text
        self = text.withUTF8 { Self(packing: UnsafeRawBufferPointer($0)) } ?? .text(text)
    }

    /// The accessor ID whose UTF-8 bytes are `bytes` (a record's field), with no string made
    /// when it is a lowercase UUID.
    init(utf8 bytes: UnsafeRawBufferPointer) {
        self = Self(packing: bytes) ?? .text(String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self))
    }

    /// The packed form of a lowercase 8-4-4-4-12 UUID; nil for anything else.
    private init?(packing bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 36 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        var nibbles = 0
        for i in 0..<36 {
            let c = bytes[i]
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = c &- UInt8(ascii: "a") &+ 10
            default: return nil  // upper case too: it would not come back the same
            }
            if nibbles < 16 {
                words.0 = words.0 << 4 | UInt64(value)
            } else {
                words.1 = words.1 << 4 | UInt64(value)
            }
            nibbles += 1
        }
        self = .uuid(words.0, words.1)
    }

    /// The accessor ID as text.
    var text: String {
        switch self {
        case .text(let text):
            return text
        case .uuid(let high, let low):
            return String(unsafeUninitializedCapacity: 36) { buffer in
                let digits: StaticString = "0123456789abcdef"
                var out = 0
                for nibble in 0..<32 {
                    if out == 8 || out == 13 || out == 18 || out == 23 {
                        buffer[out] = UInt8(ascii: "-")
                        out += 1
                    }
                    let word = nibble < 16 ? high : low
                    let shift = UInt64(60 - (nibble % 16) * 4)
                    buffer[out] = digits.utf8Start[Int((word >> shift) & 0xF)]
                    out += 1
                }
                return 36
            }
        }
    }

    /// A well-spread 64-bit tag for the cache's tables (UUIDs are not all random: the
    /// built-in ones are mostly zeros).
    var tag: UInt64 {
        switch self {
        case .text(let text):
            return UInt64(truncatingIfNeeded: text.hashValue)
        case .uuid(let high, let low):
            var h = (high &* 0x9E37_79B9_7F4A_7C15) ^ low
            h ^= h >> 29
            h &*= 0xBF58_476D_1CE4_E5B9
            return h ^ (h >> 32)
        }
    }
}
