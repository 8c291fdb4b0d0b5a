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
        static let configuration = CommandConfiguration(
            abstract: "List every token. Secrets and hashes are never shown.",
            discussion: """
                Tokens come in accessor-ID order, a page at a time, and are printed as each page \
                arrives. Table column widths are measured on the first page; a longer identity on \
                a later page widens its own row only. -o json prints one JSON array, one token \
                per line.
                """)
        @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table
        @Option(help: "Stop after this many tokens.") var limit: Int?
        @Option(help: "Tokens per request (at most 5000).") var pageSize: Int = Paging.maxPageSize
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            if !(1...Paging.maxPageSize).contains(pageSize) { throw ValidationError("--page-size must be between 1 and \(Paging.maxPageSize)") }
        }

        func run() async throws {
            try await reportingErrors {
                let client = try connection.client()
                let table = StreamingTable(header: ["IDENTITY", "ISSUED", "REVOKED"])
                let json = output == .json ? StreamingJSONArray() : nil
                var remaining = limit ?? .max
                // The next page is fetched while this one prints.
                let firstSize = min(pageSize, remaining)
                var next: Task<Jaco_V1_ListResponse, any Error>? = Task { try await client.list(pageSize: firstSize, pageToken: "") }
                while let fetching = next {
                    let page = try await fetching.value
                    let tokens = Array(page.tokens.prefix(remaining))
                    remaining -= tokens.count
                    let (token, size) = (page.nextPageToken, min(pageSize, remaining))
                    next = token.isEmpty || size <= 0 ? nil : Task { try await client.list(pageSize: size, pageToken: token) }
                    if let json {
                        try json.print(tokens.map(Self.json))
                    } else {
                        table.print(tokens.map(Self.row))
                    }
                }
                if let json { json.finish() } else { table.finish() }
            }
        }

        static func row(_ token: Jaco_V1_TokenInfo) -> [String] {
            [token.identity.isEmpty ? token.accessorID : token.identity, rfc3339(token.issuedAtMs), token.revokedAtMs == 0 ? "-" : rfc3339(token.revokedAtMs)]
        }

        static func json(_ token: Jaco_V1_TokenInfo) -> [String: Any] {
            [
                "identity": token.identity, "accessor_id": token.accessorID, "description": token.description_p,
                "allows_privileged": token.allowsPrivileged, "issued_at": rfc3339(token.issuedAtMs),
                "revoked_at": token.revokedAtMs == 0 ? NSNull() : rfc3339(token.revokedAtMs) as Any,
            ]
        }
    }
}

/// RFC 3339 UTC for a wire time in milliseconds.
func rfc3339(_ milliseconds: Int64) -> String {
    Date(milliseconds: milliseconds).rfc3339
}
