import Foundation
import Testing

/// jacod's gRPC API from another language: a Python grpcio client (from PyPI, in a venv under
/// .build) with stubs generated from Protos/ drives every RPC, reads each error's
/// google.rpc.ErrorInfo, and calls health and reflection (scripts/grpc-python-check.py).
@Suite("gRPC API from Python end to end")
struct PythonClientTests {
    static let venv = Build.root.appendingPathComponent(".build/python-grpc-venv")

    /// The venv's python, with the pinned packages installed (once).
    static func python() async throws -> URL {
        let python = venv.appendingPathComponent("bin/python")
        let requirements = Build.root.appendingPathComponent("scripts/grpc-python-requirements.txt")
        let marker = venv.appendingPathComponent("installed-requirements.txt")
        let wanted = try String(contentsOf: requirements, encoding: .utf8)
        if (try? String(contentsOf: marker, encoding: .utf8)) == wanted { return python }
        let made = try await offPool { try runToCompletion(URL(fileURLWithPath: "/usr/bin/python3"), ["-m", "venv", venv.path], timeout: 120) }
        #expect(made.status == 0, "python3 -m venv: \(made.stderr) (scripts/setup.sh test installs python3-venv)")
        let installed = try await offPool {
            try runToCompletion(python, ["-m", "pip", "install", "-q", "-r", requirements.path], timeout: 600)
        }
        #expect(installed.status == 0, "pip install: \(installed.stderr)")
        try wanted.write(to: marker, atomically: true, encoding: .utf8)
        return python
    }

    @Test("A Python grpcio client drives every RPC, reads ErrorInfo.reason for each error case, and uses health and reflection")
    func pythonClient() async throws {
        let python = try await Self.python()
        let stubs = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-pystubs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: stubs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: stubs) }
        let protos = ["jaco/v1/audit.proto", "jaco/v1/cluster.proto", "jaco/v1/deploy.proto", "jaco/v1/tokens.proto"]
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
