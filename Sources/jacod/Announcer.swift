import Foundation
import Synchronization

/// Once every listener is up, prints where the daemon listens and, on a cluster not yet
/// initialized, the `jaco` command lines that bootstrap it.
final class Announcer: Sendable {
    private let caCertificate: String
    private let expected: Int
    private let initialized: Bool
    private let addresses = Mutex<[String]>([])

    init(caCertificate: String, expected: Int, initialized: Bool) {
        self.caCertificate = caCertificate
        self.expected = expected
        self.initialized = initialized
    }

    func listening(_ address: String) {
        let all = addresses.withLock { list -> [String]? in
            list.append(address)
            return list.count == expected ? list : nil
        }
        guard let all else { return }
        FileHandle.standardOutput.write(Data((lines(all).joined(separator: "\n") + "\n").utf8))
    }

    private func lines(_ all: [String]) -> [String] {
        guard !initialized else {
            return ["jacod is ready (cluster initialized). Listening on:"] + all.map { "  \($0)" } + ["  clients pin \(caCertificate)"]
        }
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
        if let metrics = all.first(where: { $0.hasPrefix("metrics+") }) {
            lines.append("  metrics: \(metrics.dropFirst("metrics+".count))/metrics, readiness: \(metrics.dropFirst("metrics+".count))/v1/jaco/ready")
        }
        return lines
    }
}
