import Foundation
import JacoKernel
import Testing

@testable import ConsulHTTPTransport

@Suite("Consul JSON rendering")
struct ConsulJSONTests {
    static let names = LinkNames(policies: ["p1": "readers", "p2": "writers \"quoted\""], roles: ["r1": "ops<&>"])

    static let tokens: [Indexed<Token>] = [
        // Bare: no links, no expiry, not revoked.
        Indexed(record: Token(accessorID: "a-1", identity: nil, secretDigest: .zero, issuedAt: Date(timeIntervalSince1970: 1_700_000_000)), createIndex: 1, modifyIndex: 1),
        // Everything set, and text that needs escaping.
        Indexed(record: Token(
            accessorID: "a-2", identity: "alice", secretDigest: .zero, description: "line\nbreak \"q\" \\ <tag> \u{2028}",
            policyIDs: ["p1", "gone", "p2"], roleIDs: ["r1"], local: true, namespace: "team-a",
            issuedAt: Date(timeIntervalSince1970: 1_700_000_000.123), expirationTime: Date(timeIntervalSince1970: 1_700_003_600),
            revokedAt: Date(timeIntervalSince1970: 1_700_000_100), serviceIdentities: [ServiceIdentity(serviceName: "web", datacenters: ["dc1"])],
            authMethod: "jwt",
            rotation: Rotation(previousDigest: .zero, rotatedAt: Date(timeIntervalSince1970: 1_700_000_050), graceEndsAt: Date(timeIntervalSince1970: 1_700_086_450))),
            createIndex: 7, modifyIndex: 42),
        // Links whose names are all unknown render no Policies or Roles member.
        Indexed(record: Token(accessorID: "a-3", identity: nil, secretDigest: .zero, policyIDs: ["gone"], roleIDs: ["gone"], issuedAt: Date(timeIntervalSince1970: 0)), createIndex: 2, modifyIndex: 3),
    ]

    @Test("The listing's byte writer renders a token exactly as the JSON tree does", arguments: tokens.indices)
    func writerMatchesTree(index: Int) {
        let entry = Self.tokens[index]
        // The second token was last used; the others never.
        let lastUsed = index == 1 ? Date(timeIntervalSince1970: 1_700_000_060) : nil
        var written: [UInt8] = []
        ConsulJSON.writeToken(entry, names: Self.names, hash: "aGFzaA==", lastUsed: lastUsed, to: &written)
        let tree = ConsulJSON.token(entry, secret: nil, names: Self.names, hash: "aGFzaA==", lastUsed: lastUsed).bytes
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: tree, as: UTF8.self))
    }
}
