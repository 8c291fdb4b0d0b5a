import Foundation
import JacoTestKit
import Testing

/// The documentation's shell snippets, run as a reader would paste them: as one block, with
/// `set -euo pipefail`, so a command that fails (or a token not captured) fails the test.
/// A snippet is the ```sh block after a `<!-- snippet: NAME … -->` line. Its `make build …`
/// line is replaced by putting this build's products on PATH (the test does not build).
@Suite("documentation snippets run as written", .serialized)
struct ReadmeSnippetTests {
    /// The snippet named `name` in `file` (relative to the repository root), line by line.
    static func snippet(_ name: String, in file: String) throws -> [String] {
        let text = try String(contentsOf: Build.root.appendingPathComponent(file), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        guard let marker = lines.firstIndex(where: { $0.hasPrefix("<!-- snippet: \(name)") }),
            lines.indices.contains(marker + 1), lines[marker + 1] == "```sh",
            let end = lines[(marker + 2)...].firstIndex(of: "```")
        else { throw SnippetError.missing("\(file) has no ```sh block after '<!-- snippet: \(name)'") }
        return Array(lines[(marker + 2)..<end])
    }

    /// Runs `lines` with bash in a scratch directory; background jobs are killed at the end.
    static func run(_ lines: [String]) async throws -> CommandResult {
        let body = lines.map { $0.hasPrefix("make build") ? "export PATH=\"\(Build.products.path):$PATH\"" : $0 }
        let script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"] + body
        return try await offPool {
            try runToCompletion(
                URL(fileURLWithPath: "/bin/bash"), ["-c", script.joined(separator: "\n")], environment: Build.environmentWithoutJacoSettings,
                directory: Build.root)
        }
    }

    @Test("README quickstart")
    func quickstart() async throws {
        let result = try await Self.run(try Self.snippet("quickstart", in: "README.md"))
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
        #expect(result.stdout.contains("Applied revision: 1"))
        #expect(result.stdout.contains("refused: alice's token is not privileged"))
        #expect(result.stderr.contains("permission_denied:"))
        #expect(result.stdout.contains("refused: token_revoked"))
        #expect(result.stderr.contains("token_revoked:"))
        #expect(result.stdout.contains("\"ready\":true"))
        #expect(result.stdout.contains("jaco_verifications_total{outcome=\"ok\"}"))
        #expect(result.stdout.contains("\"AccessorID\""))
    }

    @Test("Login quickstart: a JWT signed with openssl, jaco login, the Consul login, logout")
    func loginQuickstart() async throws {
        let result = try await Self.run(try Self.snippet("login", in: "docs/login.md"))
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
        #expect(result.stdout.contains(#""Name":"ci""#) && result.stdout.contains(#""BindType":"role""#))
        #expect(result.stdout.contains("(login: ci)"))
        #expect(result.stdout.contains(#""AuthMethod":"ci""#) || result.stdout.contains(#""AccessorID""#))
        #expect(result.stdout.contains("Logged out"))
    }

    @Test("etcd quickstart", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd"), "needs etcd-server"))
    func etcdQuickstart() async throws {
        let result = try await Self.run(try Self.snippet("etcd", in: "docs/etcd.md"))
        // The members were started by a script, not as the shell's jobs: stop them whatever happened.
        _ = try? await offPool {
            try SpawnedProcess(executable: "/usr/bin/pkill", arguments: ["-f", "etcd --name infra[123] --data-dir etcd/infra"]).waitForExit()
        }
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
        #expect(result.stdout.contains("alice"))
        #expect(result.stdout.contains("refused on 1: token_revoked"))
        #expect(result.stderr.contains("token_revoked: the token for 'alice' was revoked"))
        #expect(result.stdout.contains("jaco_revocation_propagation_seconds_count 1"))
        #expect(result.stdout.contains("stopped"))
    }
}

enum SnippetError: Error {
    case missing(String)
}
