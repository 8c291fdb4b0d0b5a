import ArgumentParser
import Foundation
import GRPCTransport
import JacoKernel

/// `jaco token issue|revoke|list`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, rotate, revoke and list operator tokens.",
        subcommands: [Issue.self, Rotate.self, Revoke.self, List.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a token bound to a name; prints the secret once.",
            discussion: """
                A name whose token was revoked or has expired can be issued again: the name moves to \
                the new token, and the old record stays for the audit trail.
                """)
        @Option(name: [.customLong("name"), .customLong("identity")], help: "The identity the new token is bound to (--identity is the same flag, named as the API names it).") var name: String
        @Flag(help: "Let the token apply manifests that use privileged: or security_opt:.") var allowPrivileged = false
        @Option(help: "Expire after this long, e.g. 30d, 12h, 1h30m (at least 1m; at most the daemon's [tokens] max_ttl). Default: never.")
        var ttl: String?
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let seconds = try ttl.map { try Duration.seconds(parsing: $0, flag: "--ttl") }
                if let seconds, seconds <= 0 { throw JacoError(.validationFailed, "--ttl must be longer than 0s; leave it out for a token that never expires") }
                let issued = try await connection.client().issue(identity: name, allowsPrivileged: allowPrivileged, ttl: seconds)
                let expiry = issued.token.expiresAt.map { "; expires \($0.rfc3339)" } ?? ""
                print("Token for \(issued.token.identity) (save this; not recoverable\(expiry)): \(issued.secret)")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a token a new secret; prints it once.",
            discussion: """
                The token keeps its accessor ID, identity, rights and privileged flag. The previous \
                secret keeps working for --grace (default 0: it stops at once), then stops on every \
                daemon. A Consul-made token is named by its accessor ID. A second rotation inside a \
                grace window is refused unless --force, which stops that window's old secret now.
                """)
        @Argument(help: "The identity, or the accessor ID, of the token.") var token: String
        @Option(help: "How long the previous secret keeps working, e.g. 24h or 30m (at most 30d).") var grace: String = "0s"
        @Flag(help: "Rotate even inside another rotation's grace window.") var force = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let seconds = try Duration.seconds(parsing: grace, flag: "--grace")
                let rotated = try await connection.client().rotate(TokenReference(token), grace: seconds, force: force)
                let name = rotated.token.identity.isEmpty ? rotated.token.accessorID : rotated.token.identity
                let previous = rotated.token.graceEndsAt.map { "the previous secret works until \($0.rfc3339)" } ?? "the previous secret has stopped working"
                print("New secret for \(name) (save this; not recoverable; \(previous)): \(rotated.secret)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke the token bound to an identity, or the tokens of leaked secrets.",
            discussion: """
                --secret-file takes a file with one secret per line (as a secret scanner reports \
                them; blank lines and lines starting with # are skipped, '-' reads stdin) and revokes \
                each secret's token by its digest, printing one line per secret: 'revoked <name>', \
                'previous secret stopped <name>' (a rotated token's old secret), 'already revoked \
                <name>', 'unknown', or 'malformed: <why>'. Reporting a leak needs no token: whoever \
                holds a secret may kill it. At most \(TokenService.maxLeakedSecrets) secrets and 1 MiB \
                per call; exit 1 when a line was malformed.
                """)
        @Argument(help: "The identity whose token to revoke.") var identity: String?
        @Option(help: "Revoke the tokens of the secrets in this file instead (one per line; '-' for stdin).") var secretFile: String?
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            if (identity == nil) == (secretFile == nil) { throw ValidationError("give an identity, or --secret-file <file> (one of them)") }
        }

        func run() async throws {
            try await reportingErrors {
                if let secretFile {
                    try await revokeLeaked(secretFile)
                    return
                }
                let token = try await connection.client().revoke(identity: identity!)
                print("Revoked token for \(token.identity)")
            }
        }

        private func revokeLeaked(_ path: String) async throws {
            let data = try readInputFile(path, flag: "--secret-file", limit: 1 << 20, tooLarge: "a leak report may be at most 1 MiB: split it")
            let secrets = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            guard !secrets.isEmpty else { throw JacoError(.validationFailed, "--secret-file '\(path)' holds no secrets") }
            guard secrets.count <= TokenService.maxLeakedSecrets else {
                throw JacoError(.validationFailed, "--secret-file '\(path)' holds \(secrets.count) secrets; a leak report may carry at most \(TokenService.maxLeakedSecrets): split it")
            }
            let outcomes = try await connection.client(needsToken: false).revokeLeaked(secrets: secrets)
            var malformed = false
            for outcome in outcomes {
                let name = outcome.identity.isEmpty ? outcome.accessorID : outcome.identity
                switch outcome.result {
                case .revoked: print("revoked \(name)")
                case .previousSecretStopped: print("previous secret stopped \(name)")
                case .alreadyRevoked: print("already revoked \(name)")
                case .unknown: print("unknown")
                case .malformed:
                    malformed = true
                    print("malformed: \(outcome.problem)")
                case .unspecified, .UNRECOGNIZED: print("unknown outcome")
                }
            }
            if malformed { throw ExitCode.failure }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens. Secrets and hashes are never shown.",
            discussion: """
                By default one row per jaco identity: its current token. --all adds the rest — \
                Consul-made tokens and the anonymous token (labelled by their description), and \
                tokens whose name was issued again; login tokens read "<accessor> (login: <method>)", \
                and --method <name> lists one auth method's. -o wide adds EXPIRES and LAST USED (when the \
                token last verified; the daemons write it to the store once a minute); -o json \
                carries every field. Filters combine: --active, --revoked, --unused 30d (never used, \
                or not within 30 days), --expiring 7d (expires within 7 days). Tokens come in \
                accessor-ID order, a page at a time, printed as each page arrives; column widths \
                are measured on the first page.
                """)
        @Option(name: .shortAndLong, help: "table, wide or json.") var output: ListFormat = .table
        @Flag(help: "Every token, not only each jaco identity's current one.") var all = false
        @Flag(help: "Only tokens that are neither revoked nor expired.") var active = false
        @Flag(help: "Only revoked tokens.") var revoked = false
        @Option(help: "Only tokens not used within this long, e.g. 30d (never-used ones included).") var unused: String?
        @Option(help: "Only tokens that expire within this long, e.g. 7d.") var expiring: String?
        @Option(help: "Only the tokens logins with this auth method created.") var method: String?
        @Option(help: "Stop after this many tokens.") var limit: Int?
        @Option(help: "Tokens per request (at most 5000).") var pageSize: Int = Paging.maxPageSize
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            if !(1...Paging.maxPageSize).contains(pageSize) { throw ValidationError("--page-size must be between 1 and \(Paging.maxPageSize)") }
            if active && revoked { throw ValidationError("--active and --revoked exclude each other; give one") }
        }

        func run() async throws {
            try await reportingErrors {
                let filter = TokenListFilter(
                    all: all, active: active, revoked: revoked, now: Date(), method: method,
                    unused: try unused.map { try Duration.seconds(parsing: $0, flag: "--unused") },
                    expiring: try expiring.map { try Duration.seconds(parsing: $0, flag: "--expiring") })
                let client = try connection.client()
                let header = output == .wide ? ["IDENTITY", "ISSUED", "REVOKED", "EXPIRES", "LAST USED"] : ["IDENTITY", "ISSUED", "REVOKED"]
                let table = StreamingTable(header: header)
                let json = output == .json ? StreamingJSONArray() : nil
                var remaining = limit ?? .max
                // The next page is fetched while this one prints.
                var next: Task<Jaco_V1_ListTokensResponse, any Error>? = Task { try await client.list(pageSize: pageSize, pageToken: "") }
                while let fetching = next, remaining > 0 {
                    let page = try await fetching.value
                    let tokens = Array(page.tokens.filter(filter.includes).prefix(remaining))
                    remaining -= tokens.count
                    let token = page.nextPageToken
                    next = token.isEmpty || remaining <= 0 ? nil : Task { try await client.list(pageSize: pageSize, pageToken: token) }
                    if let json {
                        try json.print(tokens.map(Self.json))
                    } else {
                        table.print(tokens.map { Self.row($0, wide: output == .wide) })
                    }
                }
                if let json { json.finish() } else { table.finish() }
            }
        }

        static func row(_ token: Jaco_V1_Token, wide: Bool) -> [String] {
            let row = [TokenListFilter.label(token), token.issuedAt.rfc3339, token.revokedAt?.rfc3339 ?? "-"]
            guard wide else { return row }
            return row + [token.expiresAt?.rfc3339 ?? "-", token.lastUsed?.rfc3339 ?? "never"]
        }

        static func json(_ token: Jaco_V1_Token) -> [String: Any] {
            func time(_ date: Date?) -> Any { date?.rfc3339 ?? NSNull() }
            return [
                "identity": token.identity, "accessor_id": token.accessorID, "description": token.description_p,
                "allows_privileged": token.allowsPrivileged, "issued_at": token.issuedAt.rfc3339,
                "revoked_at": time(token.revokedAt), "expires_at": time(token.expiresAt), "last_used": time(token.lastUsed),
                "rotated_at": time(token.rotatedAt), "grace_ends_at": time(token.graceEndsAt), "superseded": token.superseded,
                "auth_method": token.authMethod.isEmpty ? NSNull() : token.authMethod,
            ]
        }
    }
}

/// `jaco token list -o`: the reference's three columns, those plus expiry and last use, or JSON.
enum ListFormat: String, ExpressibleByArgument, CaseIterable {
    case table, wide, json
}

/// Which tokens `jaco token list` shows.
struct TokenListFilter {
    var all: Bool
    var active: Bool
    var revoked: Bool
    var now: Date
    /// Only login tokens of this auth method (they need no --all).
    var method: String? = nil
    var unused: TimeInterval?
    var expiring: TimeInterval?

    func includes(_ token: Jaco_V1_Token) -> Bool {
        if let method {
            if token.authMethod != method { return false }
        } else if !all, token.identity.isEmpty || token.superseded {
            return false
        }
        let expired = token.expiresAt.map { $0 <= now } ?? false
        if active, token.revokedAt != nil || expired { return false }
        if revoked, token.revokedAt == nil { return false }
        if let unused, let lastUsed = token.lastUsed, lastUsed > now.addingTimeInterval(-unused) { return false }
        if let expiring, expired || (token.expiresAt.map { $0 > now.addingTimeInterval(expiring) } ?? true) { return false }
        return true
    }

    /// The IDENTITY cell: the identity, or for other tokens their description (or accessor ID).
    static func label(_ token: Jaco_V1_Token) -> String {
        if !token.identity.isEmpty { return token.superseded ? "\(token.identity) (replaced)" : token.identity }
        if token.accessorID == BuiltIn.anonymousTokenID { return "anonymous" }
        if !token.authMethod.isEmpty { return "\(token.accessorID) (login: \(token.authMethod))" }
        return token.description_p.isEmpty ? token.accessorID : "\(token.accessorID) (\(token.description_p))"
    }
}

