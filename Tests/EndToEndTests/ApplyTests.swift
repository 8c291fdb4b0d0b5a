import Foundation
import JacoTestKit
import Testing

/// `jaco apply` and `jaco validate` against the real daemon: the whole admission matrix.
@Suite("jaco apply end to end")
struct ApplyTests {
    typealias Gated = ComposeFixtures.Gated
    typealias Label = ComposeFixtures.Label

    static func manifest(_ gated: Gated, _ label: Label) -> String { ComposeFixtures.manifest(gated, label) }

    @Test("{plain, privileged} token × {none, privileged, security_opt, both} × {map, list, missing, wrong} label")
    func matrix() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let plainToken = try await daemon.jaco(["token", "issue", "--name", "dev"], token: bootstrap).lastWord
        let privilegedToken = try await daemon.jaco(["token", "issue", "--name", "ci-deploy", "--allow-privileged"], token: bootstrap).lastWord
        let clean = daemon.dataDirectory.appendingPathComponent("clean.yaml")
        try "services:\n  web:\n    image: nginx\n".write(to: clean, atomically: true, encoding: .utf8)

        var expectedApplies: [String: Int] = [:]
        var expectedAdmitted: [String: Int] = [:]
        for privileged in [false, true] {
            for gated in Gated.allCases {
                for label in Label.allCases {
                    let name = "\(privileged ? "priv" : "plain")-\(gated.rawValue)-\(label.rawValue)"
                    let file = daemon.dataDirectory.appendingPathComponent("\(name).yaml")
                    try Self.manifest(gated, label).write(to: file, atomically: true, encoding: .utf8)
                    let result = try await daemon.jaco(["apply", "-f", file.path, "--name", name], token: privileged ? privilegedToken : plainToken)
                    let labelOK = label == .map || label == .list
                    if gated == .none || (labelOK && privileged) {
                        #expect(result.status == 0, "\(name): \(result.stderr)")
                        #expect(result.stdout == "Applied revision: 1\n", "\(name)")
                        expectedApplies[name] = 1
                        if gated != .none { expectedAdmitted[name] = 1 }
                    } else if !labelOK {
                        #expect(result.status == 1, "\(name)")
                        #expect(result.stderr.hasPrefix("validation_failed: service 'web': '\(gated == .securityOpt ? "security_opt" : "privileged")'"), "\(name): \(result.stderr)")
                    } else {
                        #expect(result.status == 1, "\(name)")
                        #expect(result.stderr.hasPrefix("permission_denied: service 'web' needs privileges"), "\(name): \(result.stderr)")
                        #expect(result.stderr.contains("'dev'"))
                    }
                    // What was stored: the next revision of this deployment tells.
                    let next = try await daemon.jaco(["apply", "-f", clean.path, "--name", name], token: privilegedToken)
                    #expect(next.stdout == "Applied revision: \((expectedApplies[name] ?? 0) + 1)\n", "\(name): \(next.stderr)")
                    expectedApplies[name, default: 0] += 1
                }
            }
        }

        // Audit: one apply event per stored revision, one privileged_workload_admitted per gated
        // service admitted, each attributed to the caller.
        let audit = try await daemon.jaco(["audit", "-o", "json", "--type", "apply,privileged_workload_admitted"], token: bootstrap)
        let events = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
        var applies: [String: Int] = [:], admitted: [String: Int] = [:]
        for event in events {
            let payload = event["payload"] as? [String: String] ?? [:]
            let deployment = payload["deployment"] ?? ""
            if event["type"] as? String == "apply" { applies[deployment, default: 0] += 1 }
            if event["type"] as? String == "privileged_workload_admitted" {
                admitted[deployment, default: 0] += 1
                #expect(payload["service"] == "web")
                #expect(event["identity"] as? String == "ci-deploy")
            }
        }
        #expect(applies == expectedApplies)
        #expect(admitted == expectedAdmitted)
        let verify = try await daemon.jaco(["audit", "verify"], token: bootstrap)
        #expect(verify.status == 0)
    }

    @Test("jaco validate checks locally without a token; bad input exits 1 with the reason")
    func validate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-validate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.yaml")
        try Self.manifest(.both, .list).write(to: good, atomically: true, encoding: .utf8)
        let ok = try await EndToEndTests.jaco(["validate", "-f", good.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "Valid: 2 service(s) (db, web); needs a privileged token for: web\n")

        let cases: [(String, String)] = [
            ("not: [yaml", "validation_failed: the manifest is not valid YAML"),
            ("services:\n  web:\n    image: nginx\n    priviledged: true\n", "validation_failed: service 'web': unknown field 'priviledged'"),
            (Self.manifest(.privileged, .missing), "validation_failed: service 'web': 'privileged' needs the label"),
        ]
        for (text, expected) in cases {
            let file = directory.appendingPathComponent("bad.yaml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            let result = try await EndToEndTests.jaco(["validate", "-f", file.path])
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix(expected), "\(result.stderr)")
        }
        let huge = directory.appendingPathComponent("huge.yaml")
        try Data(count: 10 << 20).write(to: huge)
        let tooBig = try await EndToEndTests.jaco(["validate", "-f", huge.path])
        #expect(tooBig.status == 1)
        #expect(tooBig.stderr.contains("the limit is 1048576 bytes"))
        let missing = try await EndToEndTests.jaco(["validate", "-f", directory.appendingPathComponent("nope.yaml").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read the manifest"))
    }
}
