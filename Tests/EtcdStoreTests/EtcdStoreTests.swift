import Foundation
import JacoKernel
import JacoRuntime
import JacoTestKit
import Testing

@testable import EtcdStore

/// What only the etcd engine has: compaction of its history, and authentication.
@Suite("etcd store", .serialized)
struct EtcdStoreTests {
    static func open(_ etcd: EtcdCluster, extra: String = "", directory: URL) async throws -> EtcdStore {
        let config = try JacoConfig.parse("[storage]\nengine = \"etcd\"\nendpoints = [\"\(etcd.members[0].clientURL)\"]\ntimeout_ms = 2000\n\(extra)", source: "etcd-test.toml")
        return try #require(try await Runtime.openStorage(config, dataDirectory: directory) as? EtcdStore)
    }

    @Test("A feed from a compacted revision fails 'compacted', clearly, instead of skipping changes")
    func compaction() async throws {
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        let directory = FileManager.default.temporaryDirectory
        let store = try await Self.open(etcd, directory: directory)
        let start = try await store.read { $0.index }
        var last: StoreIndex = 0
        for n in 0..<5 { last = try await store.commit(Transaction(writes: [.put("c/\(n)", Data("\(n)".utf8))])) }
        try await EtcdAdministration(store: store).compact(upTo: last)
        var iterator = store.changes(after: start).makeAsyncIterator()
        let error = await #expect(throws: JacoError.self) { _ = try await iterator.next() }
        #expect(error?.code == .compacted, "\(String(describing: error))")
        #expect(error?.message.contains("compacted") == true)
        // From the compaction point on, the feed works.
        let probe = try await store.commit(Transaction(writes: [.put("c/after", Data("x".utf8))]))
        var fresh = store.changes(after: last).makeAsyncIterator()
        #expect(try await fresh.next()?.index == probe)
        try await store.close()
    }

    @Test("A long run of calls is never cut off: connections are replaced before etcd's flow-control PINGs trip swift-nio-http2's limit")
    func sustainedCalls() async throws {
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        let store = try await Self.open(etcd, directory: FileManager.default.temporaryDirectory)
        try await store.commit(Transaction(writes: [.put("long/run", Data("1".utf8))]))
        // One call at a time draws one PING per call from etcd; 200 in 30 s closed the connection.
        for _ in 0..<600 { _ = try await store.read { try await $0.get("long/run") } }
        #expect(store.endpoints.droppedCalls == 0)
        try await store.close()
    }

    @Test("With etcd authentication on: the right password works, a wrong one or none is refused, naming the keys")
    func authentication() async throws {
        let etcd = try await EtcdCluster.start(size: 1)
        defer { etcd.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-etcd-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let open = try await Self.open(etcd, directory: directory)
        try await EtcdAdministration(store: open).enableAuthentication(rootPassword: "s3cret-root")
        try await open.close()

        try "s3cret-root\n".write(to: directory.appendingPathComponent("etcd.password"), atomically: true, encoding: .utf8)
        let store = try await Self.open(etcd, extra: "username = \"root\"\npassword_file = \"etcd.password\"", directory: directory)
        let index = try await store.commit(Transaction(writes: [.put("auth/ok", Data("1".utf8))]))
        #expect(try await store.read { try await $0.get("auth/ok")?.modifyIndex } == index)
        try await store.close()

        try "wrong".write(to: directory.appendingPathComponent("bad.password"), atomically: true, encoding: .utf8)
        let wrong = await #expect(throws: JacoError.self) {
            _ = try await Self.open(etcd, extra: "username = \"root\"\npassword_file = \"bad.password\"", directory: directory)
        }
        #expect(wrong?.message.contains("password_file") == true, "\(String(describing: wrong))")
        let none = await #expect(throws: JacoError.self) { _ = try await Self.open(etcd, directory: directory) }
        #expect(none?.message.contains("username") == true, "\(String(describing: none))")
    }

    @Test("TLS to etcd: https endpoints with ca_cert and a client certificate work; no client certificate, or an untrusted CA, is refused with an error naming the cause")
    func tls() async throws {
        let etcd = try await EtcdCluster.start(size: 1, tls: true)
        defer { etcd.stop() }
        let pki = try #require(etcd.certificates)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-etcd-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let other = try TestCertificates.create(in: directory.appendingPathComponent("other"), commonName: "Someone else's CA")
        let clientFiles = "cert = \"\(pki.clientCertificate.path)\"\nkey = \"\(pki.clientKey.path)\"\n"

        let store = try await Self.open(etcd, extra: "ca_cert = \"\(pki.caCertificate.path)\"\n\(clientFiles)", directory: directory)
        let start = try await store.read { $0.index }
        let index = try await store.commit(Transaction(writes: [.put("tls/ok", Data("1".utf8))]))
        #expect(try await store.read { try await $0.get("tls/ok")?.modifyIndex } == index)
        var feed = store.changes(after: start).makeAsyncIterator()
        #expect(try await feed.next()?.index == index)
        try await store.close()

        let noClientCertificate = await #expect(throws: JacoError.self) {
            _ = try await Self.open(etcd, extra: "ca_cert = \"\(pki.caCertificate.path)\"\n", directory: directory)
        }
        #expect(noClientCertificate?.code == .unavailable, "\(String(describing: noClientCertificate))")
        #expect(noClientCertificate?.message.contains("refused the client certificate; set cert and key") == true, "\(String(describing: noClientCertificate))")
        let untrusted = await #expect(throws: JacoError.self) {
            _ = try await Self.open(etcd, extra: "ca_cert = \"\(other.caCertificate.path)\"\n\(clientFiles)", directory: directory)
        }
        #expect(untrusted?.code == .unavailable, "\(String(describing: untrusted))")
        #expect(untrusted?.message.contains("not signed by the CA in ca_cert") == true, "\(String(describing: untrusted))")
        // An http:// endpoint for a TLS-only etcd: refused, not hung.
        let plain = etcd.members[0].clientURL.replacingOccurrences(of: "https://", with: "http://")
        let config = try JacoConfig.parse("[storage]\nengine = \"etcd\"\nendpoints = [\"\(plain)\"]\ntimeout_ms = 2000\n", source: "etcd-test.toml")
        let cleartext = await #expect(throws: JacoError.self) { _ = try await Runtime.openStorage(config, dataDirectory: directory) }
        #expect(cleartext?.code == .unavailable, "\(String(describing: cleartext))")
    }
}
