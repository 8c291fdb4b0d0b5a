import Foundation

/// Real etcd server processes on 127.0.0.1 with free ports and temporary data directories, for
/// tests: one member, or a cluster. Needs the `etcd` binary (Debian: etcd-server).
public final class EtcdCluster: @unchecked Sendable {
    /// One member.
    public struct Member: Sendable {
        /// The member's name (`m1`, `m2`, …).
        public var name: String
        /// Its client URL, `http://127.0.0.1:<port>` (`https://` for a TLS cluster).
        public var clientURL: String
        /// Its peer URL.
        public var peerURL: String
        /// Its data directory.
        public var dataDirectory: URL
    }

    /// The members, in order.
    public let members: [Member]
    private let lock = NSLock()
    private var processes: [Int: SpawnedProcess] = [:]
    private let directory: URL
    /// The cluster's TLS material when it was started with `tls: true`: clients must trust
    /// `caCertificate` and present `clientCertificate` (etcd runs with `--client-cert-auth`).
    public let certificates: TestCertificates?

    /// Every member's client URL, comma-separated (what `jacod --etcd-endpoints` takes).
    public var endpoints: String { members.map(\.clientURL).joined(separator: ",") }

    /// Where the etcd binary is looked for.
    public static var binary: String? {
        ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts `size` members and waits until the cluster answers. With `tls`, clients reach it
    /// over HTTPS only and must present a client certificate signed by the test CA.
    /// A port taken by another process between ``freePort()`` and etcd's bind means new ports
    /// and another try (up to three). `host` is the address members listen on (a local one).
    public static func start(size: Int = 1, tls: Bool = false, host: String = "127.0.0.1") async throws -> EtcdCluster {
        for attempt in 1...3 {
            let cluster = try EtcdCluster(size: size, tls: tls, host: host)
            do {
                for index in cluster.members.indices { try cluster.launch(index) }
                try await cluster.waitUntilServing()
                return cluster
            } catch EtcdClusterError.notReady(let name, let log) where log.contains("address already in use") && attempt < 3 {
                _ = name
                cluster.stop()
            }
        }
        preconditionFailure("unreachable: the last attempt returns or throws")
    }

    private init(size: Int, tls: Bool, host: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-etcd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        certificates = tls ? try TestCertificates.create(in: directory.appendingPathComponent("pki")) : nil
        members = (1...size).map { i in
            Member(
                name: "m\(i)", clientURL: "\(tls ? "https" : "http")://\(host):\(freePort())", peerURL: "http://\(host):\(freePort())",
                dataDirectory: directory.appendingPathComponent("m\(i)"))
        }
    }

    private func launch(_ index: Int) throws {
        guard let binary = Self.binary else { throw EtcdClusterError.notInstalled }
        let member = members[index]
        var arguments = [
            "--name", member.name, "--data-dir", member.dataDirectory.path,
            "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
            "--listen-peer-urls", member.peerURL, "--initial-advertise-peer-urls", member.peerURL,
            "--initial-cluster", members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ","),
            "--initial-cluster-state", "new", "--initial-cluster-token", directory.lastPathComponent,
        ]
        if let certificates {
            arguments += [
                "--cert-file", certificates.serverCertificate.path, "--key-file", certificates.serverKey.path,
                "--client-cert-auth", "--trusted-ca-file", certificates.caCertificate.path,
            ]
        }
        let log = directory.appendingPathComponent("\(member.name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = try SpawnedProcess(executable: binary, arguments: arguments, stdout: handle.fileDescriptor, stderr: handle.fileDescriptor)
        lock.withLock { processes[index] = process }
        ExitReaper.register(process.pid)
    }

    /// Waits until every running member says it serves clients (after joining the cluster).
    public func waitUntilServing(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        for (index, member) in members.enumerated() where isRunning(index) {
            while !log(index).contains("ready to serve client requests") {
                if ContinuousClock.now > deadline || !isRunning(index) { throw EtcdClusterError.notReady(member.name, log(index)) }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Whether member `index` runs.
    public func isRunning(_ index: Int) -> Bool { lock.withLock { processes[index]?.isRunning ?? false } }

    /// Kills member `index` with SIGKILL (as a crash would) and waits for it to exit.
    public func kill(_ index: Int) {
        guard let process = lock.withLock({ processes.removeValue(forKey: index) }) else { return }
        process.send(SIGKILL)
        process.waitForExit()
    }

    /// Stops member `index` with SIGSTOP: its connections stay open and nothing answers, as a
    /// member that hangs (or a host that stalls) would behave. ``thaw(_:)`` resumes it.
    public func freeze(_ index: Int) {
        lock.withLock { processes[index] }?.send(SIGSTOP)
    }

    /// Resumes member `index` after ``freeze(_:)``.
    public func thaw(_ index: Int) {
        lock.withLock { processes[index] }?.send(SIGCONT)
    }

    /// Restarts member `index` on its data directory and ports.
    public func restart(_ index: Int) async throws {
        try launch(index)
        try await waitUntilServing()
    }

    /// Kills every member and removes the data directories (kept, with the logs, when
    /// `JACO_KEEP_ETCD` is set).
    public func stop() {
        for index in members.indices { kill(index) }
        if ProcessInfo.processInfo.environment["JACO_KEEP_ETCD"] == nil { try? FileManager.default.removeItem(at: directory) }
    }

    /// Member `index`'s log.
    public func log(_ index: Int) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(members[index].name).log"), encoding: .utf8)) ?? ""
    }
}

/// Why a test etcd could not start.
public enum EtcdClusterError: Error, CustomStringConvertible {
    /// No etcd binary.
    case notInstalled
    /// A member did not become healthy; its log.
    case notReady(String, String)

    public var description: String {
        switch self {
        case .notInstalled: "etcd is not installed (apt-get install etcd-server)"
        case .notReady(let name, let log): "etcd member \(name) did not become healthy:\n\(log.suffix(2000))"
        }
    }
}

/// Kills the etcd processes tests started when the test process exits, whatever the tests did.
enum ExitReaper {
    nonisolated(unsafe) private static var pids: [pid_t] = []
    private static let lock = NSLock()
    private static let installed: Void = { atexit { ExitReaper.killAll() } }()

    static func register(_ pid: pid_t) {
        _ = installed
        lock.withLock { pids.append(pid) }
    }

    static func killAll() {
        for pid in lock.withLock({ pids }) { kill(pid, SIGKILL) }
    }
}
