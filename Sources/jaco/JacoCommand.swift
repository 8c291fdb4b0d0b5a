import ArgumentParser
import Foundation
import JacoRuntime

/// The `jaco` CLI: talks to jacod over gRPC with TLS (or its local unix socket).
@main
struct JacoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jaco",
        abstract: "Manage a Jaco cluster: bootstrap it, issue and revoke tokens, read the audit log.",
        discussion: """
            Exit codes: 0 on success; 1 when the command failed, with '<code>: <message>' on stderr \
            (e.g. token_revoked, permission_denied, unavailable); 64 for a usage error (an unknown \
            command or flag, a missing argument, a bad value).

            Shell completions: jaco --generate-completion-script bash (or zsh, fish).
            """,
        version: Jaco.version,
        subcommands: [
            ClusterCommand.self, TokenCommand.self, LoginCommand.self, LogoutCommand.self, AuditCommand.self, ValidateCommand.self, ApplyCommand.self, SnapshotCommand.self,
            StoreCommand.self, VersionCommand.self,
        ])
}
