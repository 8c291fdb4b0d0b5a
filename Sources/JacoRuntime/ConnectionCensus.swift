import Foundation
import Synchronization

/// Counts the open connections of each of a daemon's listeners, for the metrics gauge
/// `jaco_listener_connections`. Neither grpc-swift's nor Hummingbird's server exposes its
/// connections, so it reads the system's socket tables (Linux `/proc/self/net`): established
/// TCP connections whose local port is the listener's, and connected unix sockets bound to the
/// listener's path. Elsewhere it reports nothing.
public final class ConnectionCensus: Sendable {
    private let listeners = Mutex<[String]>([])

    /// Creates an empty census.
    public init() {}

    /// Adds a listener by the address it announced (`grpc+tls://127.0.0.1:7400`,
    /// `grpc+unix:///run/jaco.sock`, `https://…`, `metrics+http://…`).
    public func add(_ address: String) {
        listeners.withLock { $0.append(address) }
    }

    /// Each listener's open connections now.
    public func count() -> [(listener: String, connections: Int)] {
        let all = listeners.withLock { $0 }
        guard !all.isEmpty else { return [] }
        let tcpPorts = Self.establishedLocalPorts()
        let unixPaths = Self.connectedUnixPaths()
        return all.compactMap { address in
            if let path = address.components(separatedBy: "+unix://").dropFirst().first {
                return (address, unixPaths[path] ?? 0)
            }
            guard let port = address.split(separator: ":").last.flatMap({ Int($0) }) else { return nil }
            return (address, tcpPorts[port] ?? 0)
        }
    }

    /// Established TCP connections (IPv4 and IPv6) by local port.
    static func establishedLocalPorts() -> [Int: Int] {
        var ports: [Int: Int] = [:]
        for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
            for fields in rows(of: table) where fields.count > 3 && fields[3] == "01" {
                if let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }) { ports[port, default: 0] += 1 }
            }
        }
        return ports
    }

    /// Connected unix stream sockets by bound path (state 03; the listening socket is 01).
    static func connectedUnixPaths() -> [String: Int] {
        var paths: [String: Int] = [:]
        for fields in rows(of: "/proc/self/net/unix") where fields.count > 7 && fields[5] == "03" {
            paths[String(fields[7]), default: 0] += 1
        }
        return paths
    }

    private static func rows(of table: String) -> [[Substring]] {
        // Read to the end: /proc files report size 0, and String(contentsOfFile:) stops after
        // the first page of a table with many sockets.
        guard let file = FileHandle(forReadingAtPath: table) else { return [] }
        defer { try? file.close() }
        let text = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    }
}
