import ArgumentParser
import ClusterTLS
import Foundation
import GRPCTransport
import JacoKernel

/// `jaco cluster cert issue --client NAME`: a client certificate for mutual TLS.
struct CertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "Client certificates for listeners with verify_incoming.",
        subcommands: [Issue.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Have the cluster CA sign a client certificate; writes NAME.crt and NAME.key.",
            discussion: """
                The key is made here and never sent: the daemon signs a request over it (needs a token \
                with acl:write, or the unix socket) and records client_certificate_issue in the audit log. \
                Present the pair with --client-cert/--client-key, JACO_CLIENT_CERT/JACO_CLIENT_KEY or \
                [client] cert/key. NAME.key is written 0600. Existing files are not replaced without --force.
                """)
        @Option(help: "Who presents the certificate (its common name): 1-128 of letters, digits, '.', '_', '-', '@'.") var client: String
        @Option(help: "Where to write NAME.crt and NAME.key.") var out: String = "."
        @Option(help: "How long it is valid, in days (at most \(TokenService.maxClientCertificateDays)).") var days: Int = 365
        @Flag(help: "Replace NAME.crt and NAME.key if they exist.") var force = false
        @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                try TokenService.validateClientCertificate(name: client, days: days)
                let directory = URL(fileURLWithPath: out)
                let certificateFile = directory.appendingPathComponent("\(client).crt"), keyFile = directory.appendingPathComponent("\(client).key")
                for file in [certificateFile, keyFile] where !force && FileManager.default.fileExists(atPath: file.path) {
                    throw JacoError(.validationFailed, "'\(file.path)' exists; choose another --out, or pass --force to replace it")
                }
                let (requestPEM, keyPEM) = try ClientCertificateRequest.make(name: client)
                let issued = try await connection.client().issueClientCertificate(name: client, requestPEM: requestPEM, days: days)
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try write(keyPEM, to: keyFile, mode: 0o600)
                try write(issued.certificatePem, to: certificateFile, mode: 0o644)
                let notAfter = issued.notAfter.rfc3339
                switch output {
                case .table:
                    print(Table.render(
                        header: ["NAME", "SERIAL", "EXPIRES", "CERT", "KEY"],
                        rows: [[client, issued.serial, notAfter, certificateFile.path, keyFile.path]]))
                case .json:
                    print(try JSONText.line([
                        "name": client, "serial": issued.serial, "not_after": notAfter, "cert": certificateFile.path, "key": keyFile.path,
                    ]))
                }
            }
        }

        /// Writes `text` to `url` with `mode` from the first byte (a key is never readable by others).
        private func write(_ text: String, to url: URL, mode: Int) throws {
            try? FileManager.default.removeItem(at: url)
            guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
                throw JacoError(.validationFailed, "cannot write '\(url.path)'; check that the directory is writable")
            }
        }
    }
}
