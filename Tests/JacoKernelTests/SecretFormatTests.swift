import Foundation
import JacoKernel
import Testing

@Suite("Secret format")
struct SecretFormatTests {
    @Test("Generated secrets are well-formed, distinct and carry at least 128 random bits")
    func generated() {
        var seen = Set<String>()
        for _ in 0..<2000 {
            let secret = SecretFormat.generate()
            #expect(secret.count == SecretFormat.length)
            #expect(secret.hasPrefix("jaco_"))
            #expect(SecretFormat.problem(with: secret) == nil)
            seen.insert(secret)
        }
        #expect(seen.count == 2000)
        #expect(SecretFormat.length == SecretFormat.prefix.utf8.count + SecretFormat.randomLength + SecretFormat.checksumLength)
        // 32 characters from a 62-letter alphabet: log2(62) * 32 ≈ 190 bits.
        #expect(Double(SecretFormat.randomLength) * log2(62.0) >= 128)
    }

    @Test("The verify path's quick shape test passes generated secrets and nothing shorter, longer or otherwise prefixed")
    func generatedShape() {
        func quick(_ text: String) -> Bool {
            var text = text
            return text.withUTF8 { SecretFormat.hasGeneratedShape($0) }
        }
        let secret = SecretFormat.generate()
        #expect(quick(secret))
        #expect(!quick(String(secret.dropLast())))
        #expect(!quick(secret + "x"))
        #expect(!quick("JACO_" + secret.dropFirst(5)))
        #expect(!quick("jaco-" + secret.dropFirst(5)))
        #expect(!quick("xjaco" + secret.dropFirst(5)))
        #expect(!quick(""))
        #expect(!quick(UUID().uuidString.lowercased()))
    }

    @Test("Every single-character change is caught by the checksum")
    func everyTypoCaught() {
        let secret = Array(SecretFormat.generate().utf8)
        for position in SecretFormat.prefix.utf8.count..<secret.count {
            var typo = secret
            typo[position] = typo[position] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
            #expect(SecretFormat.problem(with: String(decoding: typo, as: UTF8.self)) != nil)
        }
    }

    @Test("Consul-style UUID secrets are accepted as well-formed")
    func uuidSecrets() {
        #expect(SecretFormat.problem(with: "6a1253d2-1785-24fd-91c2-f8e78c745511") == nil)
        #expect(SecretFormat.problem(with: "6a1253d2-1785-24fd-91c2-f8e78c74551") != nil)
    }
}

@Suite("Digests")
struct DigestTests {
    @Test("Hex round-trips and rejects bad input")
    func hexRoundTrip() {
        let bytes = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        let digest = bytes.withUnsafeBytes { Digest256(bytes: $0) }
        #expect(Digest256(hex: digest.hex) == digest)
        #expect(digest.bytes == bytes)
        #expect(Digest256(hex: "zz") == nil)
        #expect(Digest256(hex: String(repeating: "g", count: 64)) == nil)
        #expect(digest != .zero)
    }
}
