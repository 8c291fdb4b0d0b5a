import ArgumentParser
import Foundation
import GRPCTransport

/// `jaco cluster init|status`.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Bootstrap the cluster, or show its status.",
        subcommands: [Init.self, Status.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the bootstrap token; prints it once.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let secret = try await connection.client(needsToken: false).initCluster()
                print("Bootstrap token (identity 'bootstrap'; save this, not recoverable): \(secret)")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show whether the cluster is initialized and what it runs on.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let status = try await connection.client(needsToken: false).status()
                print(Table.render(
                    header: ["INITIALIZED", "ENGINE", "HASHING", "INDEX", "TOKENS", "VERSION"],
                    rows: [[String(status.initialized), status.storageEngine, status.hashingAlgorithm, String(status.storeIndex), String(status.tokenCount), status.version]]))
            }
        }
    }
}
