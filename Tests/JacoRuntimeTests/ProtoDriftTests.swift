import Foundation
import Testing

/// The committed generated code must come from the committed protos: scripts/generate-protos.sh
/// records each .proto's SHA-256 beside the code it generates, and this compares.
@Suite("Generated gRPC code matches the protos")
struct ProtoDriftTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("Every .proto under Protos/jaco and Protos/grpc has the checksum the generated code was made from")
    func protosMatchGeneratedCode() throws {
        let recorded = try String(contentsOf: Self.root.appendingPathComponent("Plugins/GRPCTransport/Generated/PROTO-SHA256SUMS"), encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "find jaco grpc -name '*.proto' | sort | xargs sha256sum"]
        process.currentDirectoryURL = Self.root.appendingPathComponent("Protos")
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let current = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        while process.isRunning { usleep(5_000) }  // not waitUntilExit(): it spins a run loop on a cooperative thread
        #expect(current == recorded, "Protos changed since the Swift code was generated: run scripts/generate-protos.sh and commit its output")
    }
}
