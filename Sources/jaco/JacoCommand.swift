import ArgumentParser
import Foundation
import JacoRuntime

/// The `jaco` CLI: talks to jacod over gRPC with TLS (or its local unix socket).
@main
struct JacoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jaco",
        abstract: "Manage a Jaco cluster: bootstrap it, issue and revoke tokens, read the audit log.",
        version: Jaco.version,
        subcommands: [ClusterCommand.self, TokenCommand.self, AuditCommand.self, ValidateCommand.self, ApplyCommand.self])
}
