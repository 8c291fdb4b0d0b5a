import ArgumentParser
import ComposeAdmission
import Foundation
import GRPCTransport
import JacoKernel
import JacoRuntime

/// Reads a manifest file, refusing one over the size limit before reading it all.
func readManifest(_ path: String) throws(JacoError) -> Data {
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    guard let size = attributes?[.size] as? Int, let data = FileManager.default.contents(atPath: path) else {
        throw JacoError(.validationFailed, "cannot read the manifest '\(path)'")
    }
    let limit = ComposeAdmissionPlugin.maxManifestBytes
    guard size <= limit else {
        throw JacoError(.validationFailed, "the manifest '\(path)' is \(size) bytes; the limit is \(limit) bytes (1 MiB)")
    }
    return data
}

/// `jaco validate -f <compose.yaml>`: the schema half, locally, with no token.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check a compose manifest locally; no daemon or token needed.")
    @Option(name: .shortAndLong, help: "The compose file.") var file: String
    @Option(help: "A config file whose [admission] section chooses the policies (default: $JACO_CONFIG, else the built-in chain).") var config: String?

    func run() async throws {
        try await reportingErrors {
            let path = config ?? ProcessInfo.processInfo.environment["JACO_CONFIG"]
            let chain = try Runtime.makeAdmission(try path.map { try JacoConfig.load(path: $0) } ?? JacoConfig.parse("", source: "<built-in>"))
            let review = try chain.validate([UInt8](try readManifest(file)))
            let gated = review.gatedServices.isEmpty ? "" : "; needs a privileged token for: \(review.gatedServices.joined(separator: ", "))"
            print("Valid: \(review.services.count) service(s) (\(review.services.joined(separator: ", ")))\(gated)")
        }
    }
}

/// `jaco apply -f <compose.yaml> [--name <deployment>]`.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Admit a compose manifest and store it as the deployment's next revision.")
    @Option(name: .shortAndLong, help: "The compose file.") var file: String
    @Option(help: "The deployment name (default: the file name without its extension).") var name: String?
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await reportingErrors {
            let manifest = try readManifest(file)
            let deployment = name ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent.lowercased()
            let response = try await connection.client().apply(deployment: deployment, manifest: manifest)
            print("Applied revision: \(response.revision)")
        }
    }
}
