import Foundation
import Logging
import Synchronization

/// Once every listener is up, prints the `jaco` command lines that reach this daemon.
final class Announcer: Sendable {
    private let caCertificate: String
    private let expected: Int
    private let logger: Logger
    private let addresses = Mutex<[String]>([])

    init(caCertificate: String, expected: Int, logger: Logger) {
        self.caCertificate = caCertificate
        self.expected = expected
        self.logger = logger
    }

    func listening(_ address: String) {
        let all = addresses.withLock { list -> [String]? in
            list.append(address)
            return list.count == expected ? list : nil
        }
        guard let all else { return }
        var lines = ["jacod is ready. Next steps:"]
        if let tcp = all.first(where: { $0.hasPrefix("grpc+tls://") }) {
            let server = String(tcp.dropFirst("grpc+tls://".count))
            lines += [
                "  jaco cluster init --server \(server) --ca-cert \(caCertificate)",
                "  export JACO_TOKEN=<the bootstrap token it prints>",
                "  jaco token issue --server \(server) --ca-cert \(caCertificate) --name ci-deploy",
                "  jaco token list --server \(server) --ca-cert \(caCertificate)",
            ]
        }
        if let https = all.first(where: { $0.hasPrefix("https://") }) {
            lines.append("  Consul clients: CONSUL_HTTP_ADDR=\(https) CONSUL_CACERT=\(caCertificate) (bootstrap: PUT \(https)/v1/acl/bootstrap)")
        }
        if let unix = all.first(where: { $0.hasPrefix("grpc+unix://") }) {
            lines.append("  on this machine, without a token: jaco token list --socket \(unix.dropFirst("grpc+unix://".count))")
        }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
