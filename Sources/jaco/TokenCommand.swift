import ArgumentParser
import Foundation
import GRPCTransport
import JacoKernel

/// `jaco token issue|revoke|list`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, revoke and list operator tokens.",
        subcommands: [Issue.self, Revoke.self, List.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mint a token bound to a name; prints the secret once.")
        @Option(help: "The identity the new token is bound to.") var name: String
        @Flag(help: "Let the token apply manifests that use privileged: or security_opt:.") var allowPrivileged = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let issued = try await connection.client().issue(identity: name, allowPrivileged: allowPrivileged)
                print("Token for \(issued.token.identity) (save this; not recoverable): \(issued.secret)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke the token bound to an identity.")
        @Argument(help: "The identity whose token to revoke.") var identity: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let token = try await connection.client().revoke(identity: identity)
                print("Revoked token for \(token.identity)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every token. Secrets and hashes are never shown.")
        @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let tokens = try await connection.client().list()
                switch output {
                case .table:
                    print(Table.render(header: ["IDENTITY", "ISSUED", "REVOKED"], rows: tokens.map { token in
                        [token.identity.isEmpty ? token.accessorID : token.identity, rfc3339(token.issuedAtMs), token.revokedAtMs == 0 ? "-" : rfc3339(token.revokedAtMs)]
                    }))
                case .json:
                    print(try JSONText.array(tokens.map { token in
                        [
                            "identity": token.identity, "accessor_id": token.accessorID, "description": token.description_p,
                            "allows_privileged": token.allowsPrivileged, "issued_at": rfc3339(token.issuedAtMs),
                            "revoked_at": token.revokedAtMs == 0 ? NSNull() : rfc3339(token.revokedAtMs) as Any,
                        ]
                    }))
                }
            }
        }
    }
}

/// RFC 3339 UTC for a wire time in milliseconds.
func rfc3339(_ milliseconds: Int64) -> String {
    Date(milliseconds: milliseconds).rfc3339
}
