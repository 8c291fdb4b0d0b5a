import ArgumentParser
import Foundation
import ClusterTLS
import GRPCTransport
import JacoKernel

/// `jaco cluster init|status`.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Bootstrap the cluster, show its status, or issue client certificates.",
        subcommands: [Init.self, Status.self, CertificateCommand.self])

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
        static let configuration = CommandConfiguration(
            abstract: "Show whether the cluster is initialized and ready, and what it runs on.",
            discussion: """
                READY is yes when the cluster is initialized, the store answers and the cache is loaded; \
                PROBLEMS says what is missing. A second table lists the certificates the daemon uses \
                (server, CA, client CAs, etcd client) and the client certificate this command presented, \
                with their expiry. With --wait, the command retries until the daemon \
                answers (e.g. while it starts, before its CA certificate exists) and, with --ready, \
                until it is ready; it exits 1 naming the last problem when the time runs out.
                """)
        @Option(help: "Keep trying this long, e.g. 30s or 2m, until the daemon answers.") var wait: String?
        @Flag(help: "With --wait: keep trying until the daemon is also ready (initialized, store reachable).") var ready = false
        @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            if ready && wait == nil { throw ValidationError("--ready needs --wait <duration>") }
        }

        func run() async throws {
            try await reportingErrors {
                let deadline = Date().addingTimeInterval(try wait.map { try Duration.seconds(parsing: $0, flag: "--wait") } ?? 0)
                let status = try await Self.poll(until: deadline, needReady: ready) { try await connection.client(needsToken: false).status() }
                let problems = status.problems.isEmpty ? "-" : status.problems.joined(separator: "; ")
                let certificates = Self.certificates(status, presented: try connection.presentedCertificate())
                let now = Date()
                switch output {
                case .table:
                    print(Table.render(
                        header: ["INITIALIZED", "READY", "ENGINE", "HASHING", "INDEX", "TOKENS", "VERSION", "PROBLEMS"],
                        rows: [[
                            String(status.initialized), status.ready ? "yes" : "no", status.storageEngine, status.hashingAlgorithm,
                            String(status.storeIndex), String(status.tokenCount), status.version, problems,
                        ]]))
                    if !certificates.isEmpty {
                        print()
                        print(Table.render(
                            header: ["CERTIFICATE", "SUBJECT", "EXPIRES", "DAYS LEFT"],
                            rows: certificates.map { [$0.role, $0.subject, $0.notAfter.rfc3339, String(Self.daysLeft($0.notAfter, now))] }))
                    }
                case .json:
                    print(try JSONText.line([
                        "initialized": status.initialized, "ready": status.ready, "engine": status.storageEngine,
                        "hashing": status.hashingAlgorithm, "index": status.storeIndex, "tokens": status.tokenCount,
                        "version": status.version, "problems": status.problems,
                        "certificates": certificates.map {
                            ["role": $0.role, "subject": $0.subject, "not_after": $0.notAfter.rfc3339, "days_left": Self.daysLeft($0.notAfter, now)] as [String: Any]
                        },
                    ]))
                }
            }
        }

        /// The daemon's certificates, then the one this command presented (read from its file).
        static func certificates(_ status: Jaco_V1_GetClusterStatusResponse, presented: String?) -> [CertificateSummary] {
            let daemon = status.certificates.map(\.summary)
            return daemon + (presented.flatMap { CertificateFiles.summary(role: "client", path: $0) }.map { [$0] } ?? [])
        }

        /// Whole days until `date` (negative once past).
        static func daysLeft(_ date: Date, _ now: Date) -> Int { Int((date.timeIntervalSince(now) / 86_400).rounded(.down)) }

        /// Calls `status` until it answers (and is ready, when asked) or `deadline` passes; then
        /// the last error, or `unavailable` naming what kept it from being ready.
        static func poll(
            until deadline: Date, needReady: Bool, _ status: () async throws -> Jaco_V1_GetClusterStatusResponse
        ) async throws -> Jaco_V1_GetClusterStatusResponse {
            while true {
                do {
                    let answer = try await status()
                    if !needReady || answer.ready { return answer }
                    if Date() >= deadline {
                        throw JacoError(.unavailable, "the daemon answered but is not ready: \(answer.problems.joined(separator: "; "))")
                    }
                } catch let error as JacoError where Date() < deadline && error.code != .validationFailed {
                    _ = error  // not up yet (no CA file, refused connection): try again
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
