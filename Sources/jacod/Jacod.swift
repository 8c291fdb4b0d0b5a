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
        discussion: """
            With no flags it runs on the built-in default: SQLite and TLS material under ./data, gRPC on \
            127.0.0.1:7400, the unix socket ./data/jaco.sock, the Consul ACL HTTP API on https://127.0.0.1:8501, \
            metrics and health on http://127.0.0.1:9400.

            Exit codes: 0 after a clean shutdown (SIGTERM, SIGINT); 1 when it cannot start or fails \
            (the reason on stderr as 'jacod: <code>: <message>'); 64 for a usage error (an unknown \
            flag or a bad value).
            """,
        version: Jaco.version)

    @Option(help: "The config file (TOML). Default: the built-in default.")
    var config: String?

    @Option(help: "Where the store, TLS material and relative config paths live.")
    var dataDir: String = "./data"

    @Option(help: "Move the config's gRPC (TLS) listener to this host:port; its other keys stay.")
    var grpcListen: String?

    @Option(help: "Move the config's unix socket listener to this path (from the current directory).")
    var socket: String?

    @Option(help: "Move the config's Consul-compatible ACL HTTP API (HTTPS) listener to this host:port; its other keys stay.")
    var httpListen: String?

    @Option(help: "etcd client URLs, comma-separated, instead of the config's [storage] endpoints (engine etcd).")
    var etcdEndpoints: String?

    @Option(help: "Move the config's metrics, health and readiness listener to this host:port (plain HTTP: loopback only).")
    var metricsListen: String?

    @Option(help: "Log lines as 'text' or 'json' (one object per line), on stderr.")
    var logFormat: LogFormat = .text

    @Option(help: "The least severe level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let (format, level) = (logFormat, logLevel)
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                return JSONLogHandler(label: label, logLevel: level)
            }
        }
        let logger = Logger(label: "jacod")
        // Whatever the shell's umask, what jacod creates is its own: directories 0700, the store,
        // WAL and key files 0600 (the CA certificate is made 0644 on purpose, for clients).
        umask(0o077)
        do {
            try await Daemon(
                configPath: config, dataDirectory: URL(fileURLWithPath: dataDir).standardizedFileURL,
                grpcListen: grpcListen, socket: socket, httpListen: httpListen, etcdEndpoints: etcdEndpoints,
                metricsListen: metricsListen, logger: logger
            ).run()
        } catch {
            let (code, message) = (error as? JacoError).map { ($0.code.rawValue, $0.message) } ?? ("failed", "\(error)")
            if format == .json {
                logger.critical("\(message)", metadata: ["code": "\(code)"])
            } else {
                FileHandle.standardError.write(Data("jacod: \(code): \(message)\n".utf8))
            }
            throw ExitCode.failure
        }
    }
}

/// How jacod writes its log lines.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
