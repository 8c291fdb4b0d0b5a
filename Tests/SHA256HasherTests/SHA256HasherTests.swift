import Foundation
import JacoKernel
import OpenSSLHasher
import SHA256Hasher
import Testing

@Suite("SHA-256 hasher")
struct SHA256HasherTests {
    @Test("sha256 matches the FIPS 180-2 test vector")
    func sha256Vector() {
        let digest = SHA256HasherPlugin.sha256().digest(ofSecret: "abc")
        #expect(digest.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("hmac-sha256 matches an openssl-computed vector and differs from plain sha256")
    func hmacVector() throws {
        // A vector computed independently with openssl:
        //   printf 'abc' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
        let hasher = try SHA256HasherPlugin.hmacSHA256(key: Data("0123456789abcdef0123456789abcdef".utf8))
        #expect(hasher.algorithm == "hmac-sha256")
        #expect(hasher.digest(ofSecret: "abc").hex == "a60c859a6827c5ea576a48d8d368672fbfe4667c6a927428284a0cb3859cc1d6")
        #expect(hasher.digest(ofSecret: "abc") != SHA256HasherPlugin.sha256().digest(ofSecret: "abc"))
        // Audit chains stay plain SHA-256, verifiable without the key.
        #expect(hasher.contentHash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("A short HMAC key is refused with the length it needs")
    func shortKey() {
        let error = #expect(throws: JacoError.self) { _ = try SHA256HasherPlugin.hmacSHA256(key: Data("short\n".utf8)) }
        #expect(error?.code == .configInvalid)
        #expect(error?.message.contains("at least 32") == true)
    }
}

@Suite("OpenSSL SHA-256 hasher")
struct OpenSSLHasherTests {
    @Test("The same digests as swift-crypto's, byte for byte, for inputs of 0 to 300 bytes, from many threads at once")
    func sameDigests() async throws {
        let openssl = try OpenSSLHasherPlugin.sha256()
        let swiftCrypto = SHA256HasherPlugin.sha256()
        #expect(openssl.algorithm == swiftCrypto.algorithm)
        #expect(openssl.digest(ofSecret: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Each thread has its own digest context: run the comparison on many at once.
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    var wrong = 0
                    for length in 0...300 where length % 8 == task {
                        for _ in 0..<20 {
                            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                            let a = bytes.withUnsafeBytes { openssl.contentHash($0) }
                            let b = bytes.withUnsafeBytes { swiftCrypto.contentHash($0) }
                            if a != b { wrong += 1 }
                        }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(OpenSSLHasherPlugin.version.hasPrefix("OpenSSL 3"))
        #expect(OpenSSLHasherPlugin.sha256Provider != nil)
    }
}
