import Foundation
import JacoTestKit
import Testing

@testable import JacoKernel

@Suite("Snapshots in process")
struct SnapshotTests {
    /// A snapshot of `jaco`'s store, as one blob.
    static func save(_ jaco: InProcessJaco) async throws -> (SnapshotHeader, Data) {
        let collected = Collected()
        let header = try await jaco.kernel.saveSnapshot(engine: "memory", by: try jaco.operator, chunkSize: 512) { collected.append($0) }
        return (header, collected.data)
    }

    final class Collected: @unchecked Sendable {
        var data = Data()
        func append(_ bytes: Data) { data.append(bytes) }
    }

    @Test("Save and restore round-trip: tokens verify again, later ones are gone, the audit chain holds and records the restore")
    func roundTrip() async throws {
        let jaco = try await InProcessJaco.start()
        defer { Task { try? await jaco.stop() } }
        let alice = try await jaco.kernel.tokens.issue(identity: "alice", by: try jaco.operator)
        let (header, data) = try await Self.save(jaco)
        #expect(header.counts["tokens"] == 3)  // bootstrap, anonymous, alice
        #expect(header.records == (try SnapshotFile.read(data, hasher: jaco.kernel.hasher).records.count))
        let later = try await jaco.kernel.tokens.issue(identity: "later", by: try jaco.operator)
        _ = try await jaco.kernel.tokens.revoke(identity: "alice", by: try jaco.operator)

        _ = try await jaco.kernel.restoreSnapshot(data, by: try jaco.operator)
        #expect(try jaco.kernel.tokens.verify(secret: alice.secret).identity == "alice")
        #expect(throws: JacoError.self) { try jaco.kernel.tokens.verify(secret: later.secret) }
        let report = try await jaco.kernel.audit.verifyChain()
        #expect(report.firstBrokenLink == nil)
        let events = try await jaco.kernel.audit.events(by: try jaco.operator)
        #expect(events.last?.type == AuditEventType.snapshotRestore)
        #expect(!events.contains { $0.payload["identity"] == "later" })
    }

    @Test("A flipped byte, a truncated file, a foreign file and a newer format are refused, and nothing changes")
    func damaged() async throws {
        let jaco = try await InProcessJaco.start()
        defer { Task { try? await jaco.stop() } }
        let (_, data) = try await Self.save(jaco)
        let keeper = try await jaco.kernel.tokens.issue(identity: "keeper", by: try jaco.operator)
        var flipped = data
        flipped[data.count / 2] ^= 0x40
        let cases: [(Data, String)] = [
            (flipped, "checksum does not match"), (data.prefix(data.count - 10), "checksum does not match"),
            (Data("hello".utf8), "not a Jaco snapshot"), (data.prefix(20), "truncated"),
        ]
        for (bytes, expected) in cases {
            let error = await #expect(throws: JacoError.self) { _ = try await jaco.kernel.restoreSnapshot(bytes, by: try jaco.operator) }
            #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
        }
        var newer = try SnapshotFile.Writer(
            header: SnapshotHeader(format: 99, engine: "memory", storeIndex: 1, createdAt: "", hashing: "", counts: [:], records: 0),
            hasher: jaco.kernel.hasher)
        newer.finish()
        let error = #expect(throws: JacoError.self) { _ = try SnapshotFile.read(newer.take(), hasher: jaco.kernel.hasher) }
        #expect(error?.message.contains("format version 99") == true)
        #expect(try jaco.kernel.tokens.verify(secret: keeper.secret).identity == "keeper")
    }

    @Test("A snapshot hashed with another key is refused before anything changes")
    func otherHashing() async throws {
        let plain = try await InProcessJaco.start()
        defer { Task { try? await plain.stop() } }
        let (_, data) = try await Self.save(plain)
        let keyed = try await InProcessJaco.start(hasher: KeyedTestHasher())
        defer { Task { try? await keyed.stop() } }
        let error = await #expect(throws: JacoError.self) { _ = try await keyed.kernel.restoreSnapshot(data, by: try keyed.operator) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("restore into a daemon with the same [hashing]") == true)
    }
}

/// A hasher whose digests differ from plain SHA-256's (as a keyed one's do).
struct KeyedTestHasher: SecretHasher {
    var algorithm: String { "hmac-sha256" }
    func digest(ofSecret bytes: UnsafeRawBufferPointer) -> Digest256 {
        var salted = Array("key".utf8) + Array(bytes)
        return salted.withUnsafeMutableBytes { InProcessJaco.defaultHasher.contentHash(UnsafeRawBufferPointer($0)) }
    }
    func contentHash(_ bytes: UnsafeRawBufferPointer) -> Digest256 { InProcessJaco.defaultHasher.contentHash(bytes) }
}
