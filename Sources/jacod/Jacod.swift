import ArgumentParser
import Foundation
import JacoKernel
import JacoRuntime
import Logging
import ServiceLifecycle

/// The Jaco daemon: issues, verifies, revokes and lists tokens; serves them over gRPC with TLS
/// and on a local unix socket, and as Consul's ACL HTTP API over HTTPS.
@main
struct Jacod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jacod",
        abstract: "The Jaco token daemon.",
        discussion: "With no flags it runs on the built-in default: SQLite and TLS material under ./data, gRPC on 127.0.0.1:7400, the unix socket ./data/jaco.sock, the Consul ACL HTTP API on https://127.0.0.1:8501.",
        version: Jaco.version)

    @Option(help: "The config file (TOML). Default: the built-in default.")
    var config: String?

    @Option(help: "Where the store, TLS material and relative config paths live.")
    var dataDir: String = "./data"

    @Option(help: "Serve gRPC with TLS on this host:port, instead of the config's gRPC listeners.")
    var grpcListen: String?

    @Option(help: "Serve the unix socket at this path, instead of the config's socket listeners.")
    var socket: String?

    @Option(help: "Serve the Consul-compatible ACL HTTP API with TLS on this host:port, instead of the config's consul-http listeners.")
    var httpListen: String?

    @Option(help: "etcd client URLs, comma-separated, instead of the config's [storage] endpoints (engine etcd).")
    var etcdEndpoints: String?

    func run() async throws {
        var logger = Logger(label: "jacod")
        logger.logLevel = .info
        do {
            try await Daemon(
                configPath: config, dataDirectory: URL(fileURLWithPath: dataDir).standardizedFileURL,
                grpcListen: grpcListen, socket: socket, httpListen: httpListen, etcdEndpoints: etcdEndpoints, logger: logger
            ).run()
        } catch let error as JacoError {
            FileHandle.standardError.write(Data("jacod: \(error.code): \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }
}
