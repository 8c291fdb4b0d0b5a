import ArgumentParser
import Foundation
import GRPCTransport
import JacoKernel
import JacoRuntime

/// How to reach the daemon. Precedence: flags, then environment (`JACO_SERVER`, `JACO_TOKEN`,
/// `JACO_CA_CERT`, `JACO_CLIENT_CERT`, `JACO_CLIENT_KEY`, `JACO_CONFIG`), then the config
/// file's `[client]` section, then defaults.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The daemon's gRPC address, host:port (default: $JACO_SERVER).")
    var server: String?

    @Option(help: "The calling operator's token (default: $JACO_TOKEN).")
    var token: String?

    @Option(help: "The cluster CA certificate (default: $JACO_CA_CERT, else \(Jaco.defaultCACertificate)).")
    var caCert: String?

    @Option(help: "A client certificate (PEM) to present, for listeners with verify_incoming (default: $JACO_CLIENT_CERT).")
    var clientCert: String?

    @Option(help: "The client certificate's private key (PEM) (default: $JACO_CLIENT_KEY).")
    var clientKey: String?

    @Option(help: "Talk to the daemon's unix socket instead (no token needed; you act as 'local').")
    var socket: String?

    @Option(help: "A config file whose [client] section supplies server, ca_cert, cert, key and socket (default: $JACO_CONFIG).")
    var config: String?

    /// A client for the resolved target and token.
    func client(needsToken: Bool = true) throws -> JacoClient {
        let environment = ProcessInfo.processInfo.environment
        let section = try clientSection(environment)
        try section?.rejectUnknownKeys(allowed: ["server", "ca_cert", "cert", "key", "socket"])
        let token = token ?? environment["JACO_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let server = try server ?? environment["JACO_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? section?.optionalString("server")
        // An explicit socket wins; a configured socket is used when no server was given.
        if let socket = try socket ?? (server == nil ? section?.optionalString("socket") : nil) {
            return JacoClient(target: .unixSocket(path: socket), token: token)
        }
        guard let server else {
            throw JacoError(.validationFailed, "no server given: pass --server host:port (or --socket <path> on the daemon's machine), or set [client] server in the config")
        }
        let (host, port) = try HostPort.parse(server)
        if needsToken && token == nil {
            throw JacoError(.tokenInvalid, "no token given: pass --token or set JACO_TOKEN to an operator token")
        }
        let ca = try caCert ?? environment["JACO_CA_CERT"] ?? section?.optionalString("ca_cert") ?? Jaco.defaultCACertificate
        return JacoClient(target: .tls(host: host, port: port, caCertificate: ca), token: token, clientCertificate: try clientCertificate(environment, section))
    }

    /// The client certificate file this command presents, if any (for status output).
    func presentedCertificate() throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        return try clientCertificate(environment, try clientSection(environment))?.certificate
    }

    /// The client certificate to present, when one is given (both files, or neither).
    private func clientCertificate(_ environment: [String: String], _ section: ConfigSection?) throws -> JacoClient.ClientCertificate? {
        let certificate = try clientCert ?? environment["JACO_CLIENT_CERT"].flatMap { $0.isEmpty ? nil : $0 } ?? section?.optionalString("cert")
        let key = try clientKey ?? environment["JACO_CLIENT_KEY"].flatMap { $0.isEmpty ? nil : $0 } ?? section?.optionalString("key")
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return JacoClient.ClientCertificate(certificate: certificate, key: key)
        case (nil, _): throw JacoError(.validationFailed, "a client key was given without its certificate: pass --client-cert too (or set JACO_CLIENT_CERT, or [client] cert)")
        case (_, nil): throw JacoError(.validationFailed, "a client certificate was given without its key: pass --client-key too (or set JACO_CLIENT_KEY, or [client] key)")
        }
    }

    private func clientSection(_ environment: [String: String]) throws -> ConfigSection? {
        guard let path = config ?? environment["JACO_CONFIG"] else { return nil }
        return try JacoConfig.load(path: path).section("client")
    }
}

/// Output format for listings.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// Runs a command body, printing a Jaco error as `<code>: <message>` on stderr with exit 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as JacoError {
        // Escaped: a message may quote what a hostile peer sent.
        FileHandle.standardError.write(Data("\(error.code): \(EchoedInput.bounded(error.message, limit: 4096))\n".utf8))
        throw ExitCode.failure
    }
}
