import Foundation
@testable import JacoKernel
import Testing

@Suite("Record codec")
struct RecordCodecTests {
    static let digest = (0..<32).map { UInt8($0) }.withUnsafeBytes { Digest256(bytes: $0) }

    @Test("Tokens, policies, roles and audit events round-trip")
    func roundTrips() throws {
        let token = Token(
            accessorID: "a1", identity: "ci-deploy", secretDigest: Self.digest, description: "d", policyIDs: ["p1", "p2"],
            roleIDs: ["r1"], allowsPrivileged: true, local: true, namespace: "team", issuedAt: Date(timeIntervalSince1970: 1_700_000_000.123),
            expirationTime: Date(timeIntervalSince1970: 1_800_000_000), revokedAt: nil)
        #expect(try Token(decoding: token.encode(), key: "t/a1") == token)
        var rotated = token
        rotated.rotation = Rotation(
            previousDigest: .zero, rotatedAt: Date(timeIntervalSince1970: 1_700_000_100), graceEndsAt: Date(timeIntervalSince1970: 1_700_086_500))
        #expect(try Token(decoding: rotated.encode(), key: "t/a1") == rotated)
        let anonymous = Token(accessorID: "a2", identity: nil, secretDigest: .zero, issuedAt: Date(timeIntervalSince1970: 0))
        #expect(try Token(decoding: anonymous.encode(), key: "t/a2") == anonymous)
        #expect(try Policy(decoding: Policy.globalManagement.encode(), key: "p") == Policy.globalManagement)
        let role = Role(id: "r1", name: "ops", description: "", policyIDs: ["p1"])
        #expect(try Role(decoding: role.encode(), key: "r") == role)
        let event = AuditEvent(
            sequence: 7, time: Date(timeIntervalSince1970: 1_700_000_000.5), identity: "alice", type: "token_issue",
            payload: ["b": "2", "a": "1"], previousHash: .zero, hash: Self.digest)
        #expect(try AuditEvent(decoding: event.encode(), key: "a/7") == event)
    }

    @Test("A truncated record fails 'storage_failure' naming the key, never crashes")
    func truncated() throws {
        let bytes = Token(accessorID: "a1", identity: "x", secretDigest: Self.digest, issuedAt: Date()).encode()
        for length in 0..<bytes.count {
            let error = #expect(throws: JacoError.self) { _ = try Token(decoding: bytes.prefix(length), key: "t/a1") }
            #expect(error?.code == .storageFailure)
            #expect(error?.message.contains("'t/a1'") == true)
        }
    }
}
