import Foundation
import Testing

/// The TCP listeners' connection limits (gRPC, Consul HTTP) on the real daemon: a connection that never
/// starts TLS is closed after `handshake_timeout`; past `max_connections` a new one is closed at
/// once; a client that speaks TLS is served throughout.
@Suite("Listener connection limits end to end")
struct ConnectionLimitTests {
    /// Opens a TCP connection to 127.0.0.1:`port` that sends nothing; the file descriptor.
    static func idleConnection(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw DaemonError.exited("connect failed: errno \(errno)") }
        return fd
    }

    /// Seconds until the server closes `fd` (a read returns end of file), or nil if it stays
    /// open for `limit` seconds.
    static func secondsUntilClosed(_ fd: Int32, limit: Double) -> Double? {
        var timeout = timeval(tv_sec: Int(limit), tv_usec: Int((limit - Double(Int(limit))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let start = Date()
        var byte: UInt8 = 0
        let read = recv(fd, &byte, 1, 0)
        return read == 0 || (read < 0 && errno == ECONNRESET) ? Date().timeIntervalSince(start) : nil
    }

    @Test("handshake_timeout closes a silent connection; max_connections closes the one too many; TLS clients are served", arguments: ["grpc", "consul-http"])
    func limits(listener: String) async throws {
        let entry = listener == "grpc" ? ListenerLine.grpc : ListenerLine.consulHTTP
        let config = try editedConfig("memory.toml", [adding("max_connections = 3\nhandshake_timeout = \"1s\"", after: entry)])
        defer { try? FileManager.default.removeItem(at: config) }
        let daemon = try Daemon(config: config.path)
        defer { daemon.remove() }
        try await daemon.start()
        let bootstrap = try await daemon.jaco(["cluster", "init"]).lastWord
        let port = listener == "grpc" ? daemon.port : daemon.httpPort
        let (silentClosed, extraClosed, held) = try await offPool { () -> (Double?, Double?, [Int32]) in
            // Three silent connections fill the listener; a fourth is closed at once.
            let held = try (0..<3).map { _ in try Self.idleConnection(port: port) }
            usleep(200_000)  // let the server accept all three
            let extra = try Self.idleConnection(port: port)
            let extraClosed = Self.secondsUntilClosed(extra, limit: 0.9)
            close(extra)
            // The silent ones are closed when their handshake deadline passes.
            let silentClosed = Self.secondsUntilClosed(held[0], limit: 5)
            return (silentClosed, extraClosed, held)
        }
        defer { for fd in held { close(fd) } }
        #expect(extraClosed != nil && extraClosed! < 0.9, "the connection past max_connections stayed open")
        #expect(silentClosed != nil && silentClosed! < 3, "a connection without a TLS handshake stayed open: \(String(describing: silentClosed))")
        // Their places are free again: a real client is served.
        if listener == "grpc" {
            let status = try await daemon.jaco(["cluster", "status"])
            #expect(status.status == 0, "\(status.stderr)")
        } else {
            let selfToken = try await offPool {
                try runToCompletion(URL(fileURLWithPath: "/usr/bin/curl"), [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", daemon.caCertificate, "-H", "X-Consul-Token: \(bootstrap)",
                    "https://127.0.0.1:\(port)/v1/acl/token/self",
                ], timeout: 30)
            }
            #expect(selfToken.stdout == "200", "\(selfToken.stderr)")
        }
    }

    @Test("The metrics listener has a connection cap too: the connection past max_connections is closed; scrapes go on once places are free")
    func metricsCap() async throws {
        let config = try editedConfig("memory.toml", [adding("max_connections = 2", after: ListenerLine.metrics)])
        defer { try? FileManager.default.removeItem(at: config) }
        let daemon = try Daemon(config: config.path)
        defer { daemon.remove() }
        try await daemon.start()
        let port = daemon.metricsPort
        let extraClosed = try await offPool { () -> Double? in
            let held = try (0..<2).map { _ in try Self.idleConnection(port: port) }
            defer { for fd in held { close(fd) } }
            usleep(200_000)
            let extra = try Self.idleConnection(port: port)
            defer { close(extra) }
            return Self.secondsUntilClosed(extra, limit: 0.9)
        }
        #expect(extraClosed != nil, "the connection past max_connections stayed open")
        var scraped = ""
        for _ in 0..<20 where scraped != "200" {
            scraped = try await offPool {
                try runToCompletion(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(daemon.metricsBase)/metrics"], timeout: 30)
            }.stdout
            if scraped != "200" { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(scraped == "200")
    }

    @Test("A bad limit is a config error naming the key")
    func badLimits() async throws {
        for (line, expected) in [
            ("max_connections = 0", "'max_connections' is 0; it must be between 1 and 1000000"),
            ("handshake_timeout = \"soon\"", "'handshake_timeout' is 'soon'; write a duration from"),
            ("idle_timeout = \"0s\"", "'idle_timeout' is '0s'; write a duration from"),
        ] {
            let config = try editedConfig("memory.toml", [adding(line, after: ListenerLine.grpc)])
            defer { try? FileManager.default.removeItem(at: config) }
            let daemon = try Daemon(config: config.path)
            defer { daemon.remove() }
            await #expect(throws: (any Error).self) { try await daemon.start() }
            #expect(daemon.logText.contains(expected), "\(line): \(daemon.logText)")
        }
    }
}
