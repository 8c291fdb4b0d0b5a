import Foundation
import Testing

/// jacod's gRPC API from another language: a Python grpcio client (from PyPI, in a venv under
/// .build) with stubs generated from Protos/ drives every RPC, reads each error's
/// google.rpc.ErrorInfo, and calls health and reflection (scripts/grpc-python-check.py).
@Suite("gRPC API from Python end to end")
struct PythonClientTests {
    static let venv = Build.root.appendingPathComponent(".build/python-grpc-venv")

    /// The venv's python, with the pinned packages installed: made once per test run, however
    /// many suites ask at once.
    static func python() async throws -> URL { try await preparation.value }

    private static let preparation = Task { () async throws -> URL in
        let python = venv.appendingPathComponent("bin/python")
        let requirements = Build.root.appendingPathComponent("scripts/python-test-requirements.txt")
        let marker = venv.appendingPathComponent("installed-requirements.txt")
        let wanted = try String(contentsOf: requirements, encoding: .utf8)
        if (try? String(contentsOf: marker, encoding: .utf8)) == wanted { return python }
        let made = try await offPool { try runToCompletion(URL(fileURLWithPath: "/usr/bin/python3"), ["-m", "venv", venv.path], timeout: 120) }
        guard made.status == 0 else { throw DaemonError.exited("python3 -m venv failed (scripts/setup.sh test installs python3-venv): \(made.stderr)") }
        let installed = try await offPool { try runToCompletion(python, ["-m", "pip", "install", "-q", "-r", requirements.path], timeout: 600) }
        guard installed.status == 0 else { throw DaemonError.exited("pip install -r \(requirements.path) failed: \(installed.stderr)") }
        try wanted.write(to: marker, atomically: true, encoding: .utf8)
        return python
    }

    @Test("A Python grpcio client drives every RPC, reads ErrorInfo.reason for each error case, and uses health and reflection")
    func pythonClient() async throws {
        let python = try await Self.python()
        let stubs = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-pystubs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: stubs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: stubs) }
        let protos = try FileManager.default.contentsOfDirectory(atPath: Build.root.appendingPathComponent("Protos/jaco/v1").path)
            .filter { $0.hasSuffix(".proto") }.sorted().map { "jaco/v1/\($0)" }
        let generated = try await offPool {
            try runToCompletion(
                python, ["-m", "grpc_tools.protoc", "-I", Build.root.appendingPathComponent("Protos").path, "--python_out", stubs.path, "--grpc_python_out", stubs.path] + protos,
                timeout: 120)
        }
        #expect(generated.status == 0, "grpc_tools.protoc: \(generated.stderr)")

        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let run = try await offPool {
            try runToCompletion(
                python, [Build.root.appendingPathComponent("scripts/grpc-python-check.py").path, daemon.server, daemon.caCertificate, bootstrap, stubs.path],
                timeout: 120)
        }
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.hasSuffix("all checks passed\n"), "\(run.stdout)")
    }
}

/// docs/openapi.yaml is a valid OpenAPI 3 document (openapi-spec-validator), so schemathesis and
/// code generators can load it.
@Suite("OpenAPI spec")
struct OpenAPISpecTests {
    @Test("docs/openapi.yaml validates")
    func validates() async throws {
        let python = try await PythonClientTests.python()
        let script = """
            from openapi_spec_validator import validate
            from openapi_spec_validator.readers import read_from_filename
            spec, _ = read_from_filename("docs/openapi.yaml")
            validate(spec)
            print("valid")
            """
        let result = try await offPool { try runToCompletion(python, ["-c", script], directory: Build.root, timeout: 120) }
        #expect(result.status == 0 && result.stdout == "valid\n", "\(result.stdout)\n\(result.stderr)")
    }
}


/// The Consul HTTP API against its spec: schemathesis (from the venv) runs every check in every
/// phase (examples, coverage, fuzzing, stateful) over docs/openapi.yaml against a real jacod
/// over HTTPS (scripts/schemathesis-run.sh, with scripts/schemathesis.toml).
@Suite("OpenAPI conformance (schemathesis)")
struct SchemathesisTests {
    @Test("schemathesis finds no failure, no server error and no crash")
    func conformance() async throws {
        let python = try await PythonClientTests.python()
        let schemathesis = python.deletingLastPathComponent().appendingPathComponent("schemathesis")
        let environment = Build.environmentWithoutJacoSettings.merging(["SCHEMATHESIS": schemathesis.path, "JACO_BIN": Build.products.path]) { $1 }
        let run = try await offPool {
            try runToCompletion(
                URL(fileURLWithPath: "/bin/bash"), [Build.root.appendingPathComponent("scripts/schemathesis-run.sh").path, "-n", "20"],
                environment: environment, timeout: 600)
        }
        #expect(run.status == 0, "\(run.stdout.suffix(6000))\n\(run.stderr)")
        // A run that tested nothing would pass too: every operation of the spec must be tested.
        let selected = run.stdout.firstMatch(of: /Selected: (\d+)\/(\d+)/).map { (Int($0.1) ?? -1, Int($0.2) ?? -2) }
        let tested = run.stdout.firstMatch(of: /Tested: (\d+)/).flatMap { Int($0.1) }
        #expect(selected != nil && selected?.0 == selected?.1 && tested == selected?.1 && (tested ?? 0) >= 25, "\(run.stdout.suffix(3000))")
    }
}
