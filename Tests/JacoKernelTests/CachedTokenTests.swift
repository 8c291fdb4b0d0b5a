import Foundation
@testable import JacoKernel
import Testing

@Suite("Cached token decode")
struct CachedTokenTests {
    static func digest(_ n: UInt8) -> Digest256 {
        [UInt8](repeating: n, count: 32).withUnsafeBytes { Digest256(bytes: $0) }
    }

    /// Tokens with every optional part set and unset, and accessor IDs that pack and that do not.
    static let tokens: [Token] = {
        let now = Date(timeIntervalSince1970: 1_760_000_000.123)
        return [
            Token(accessorID: "6a3c0d2e-1f4b-4c5d-8e9f-0a1b2c3d4e5f", identity: "ci-runner-1", secretDigest: digest(1), issuedAt: now),
            Token(
                accessorID: "6A3C0D2E-1F4B-4C5D-8E9F-0A1B2C3D4E5F", identity: nil, secretDigest: digest(2),
                description: "a token with everything", policyIDs: ["p-1", "p-2"], roleIDs: ["r-1"], allowsPrivileged: true,
                local: true, namespace: "team-a", issuedAt: now, expirationTime: now.addingTimeInterval(3600),
                revokedAt: now.addingTimeInterval(60), serviceIdentities: [ServiceIdentity(serviceName: "web", datacenters: ["dc1", "dc2"])],
                authMethod: "ci-jwt",
                rotation: Rotation(previousDigest: digest(3), rotatedAt: now, graceEndsAt: now.addingTimeInterval(300))),
            Token(accessorID: "operator", identity: "op", secretDigest: digest(4), policyIDs: ["p-1", "p-2"], issuedAt: now),
            Token(accessorID: BuiltIn.anonymousTokenID, identity: nil, secretDigest: digest(5), policyIDs: ["p-3"], issuedAt: now),
        ]
    }()

    @Test("The lean decode keeps what a whole-token decode gives, with lists shared from one record to the next")
    func agreesWithToken() throws {
        var policies = StringListMemo(), roles = StringListMemo()
        for token in Self.tokens + Self.tokens {
            let key = KeySpace.token(token.accessorID)
            let cached = try CachedToken(decoding: token.encode(), key: key, policies: &policies, roles: &roles)
            #expect(cached == CachedToken(token), "\(token.accessorID)")
            #expect(cached.accessor.text == token.accessorID)
            #expect(try CachedToken(decoding: token.encode(), key: key) == CachedToken(token))
        }
    }

    @Test("A truncated record fails the lean decode wherever the whole decode fails")
    func truncated() {
        for token in Self.tokens {
            let bytes = token.encode()
            for length in 0..<bytes.count {
                let prefix = bytes.prefix(length)
                let whole = try? Token(decoding: prefix, key: "t/x")
                let lean = try? CachedToken(decoding: prefix, key: "t/x")
                #expect(whole.map(CachedToken.init) == lean, "\(token.accessorID) cut at \(length)")
            }
        }
    }
}
