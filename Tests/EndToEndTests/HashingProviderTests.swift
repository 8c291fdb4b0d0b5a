import Foundation
import Testing

/// `[hashing] provider` on the real daemon: a store written under one provider verifies under
/// the other, since both compute the same SHA-256.
@Suite("Hashing provider end to end")
struct HashingProviderTests {
    @Test("Tokens issued by jacod on swift-crypto verify after a restart on OpenSSL (same SQLite file), and the other way")
    func switchProviders() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-provider-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: config) }
        let base = try String(contentsOf: URL(fileURLWithPath: Build.config("sqlite.toml")), encoding: .utf8)
        func use(_ provider: String) throws {
            try base.replacingOccurrences(of: "algorithm = \"sha256\"", with: "algorithm = \"sha256\"\nprovider = \"\(provider)\"")
                .write(to: config, atomically: true, encoding: .utf8)
        }
        try use("swift-crypto")
        let daemon = try Daemon(config: config.path)
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let alice = try await daemon.jaco(["token", "issue", "--name", "alice"], token: bootstrap).lastWord
        _ = await daemon.stop()

        try use("openssl")
        try await daemon.start()
        #expect(daemon.logText.contains("sha256 via openssl (OpenSSL 3"), "the start-up log names the provider: \(daemon.logText)")
        let listed = try await daemon.jaco(["token", "list"], token: alice)
        #expect(listed.status == 0 && listed.stdout.contains("alice"), "\(listed.stderr)")
        let bob = try await daemon.jaco(["token", "issue", "--name", "bob"], token: bootstrap).lastWord
        _ = await daemon.stop()

        try use("swift-crypto")
        try await daemon.start()
        let asBob = try await daemon.jaco(["token", "list"], token: bob)
        #expect(asBob.status == 0 && asBob.stdout.contains("bob"), "\(asBob.stderr)")
        let wrong = try await daemon.jaco(["token", "list"], token: "jaco_" + String(repeating: "A", count: 38))
        #expect(wrong.status != 0)
    }
}
