import Foundation
import JacoKernel

#if canImport(Glibc)
    import Glibc
#endif

/// Checks, before a daemon creates anything, that each listener's address can be taken: a TCP
/// port is bound and released at once (with `SO_REUSEADDR`, as the listeners bind), a unix
/// socket path is refused when a live process answers on it. The listeners bind for real
/// later; a port taken in between still fails there, with the same words.
public enum ListenProbe {
    /// Why `address` cannot be listened on, or nil when it can.
    public static func problem(with address: ListenAddress) -> String? {
        switch address {
        case .tcp(_, 0): return nil
        case .tcp(let host, let port): return tcpProblem(host: host, port: port)
        case .unixSocket(let path): return socketProblem(path: path)
        }
    }

    private static func tcpProblem(host: String, port: Int) -> String? {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            return "cannot resolve the host '\(host)': \(String(cString: gai_strerror(status)))"
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return nil }  // no socket to probe with: let the listener try
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return reason(errno) }
        return nil
    }

    private static func socketProblem(path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }  // nothing there yet
        guard attributes[.type] as? FileAttributeType == .typeSocket else { return "'\(path)' exists and is not a socket" }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return "the socket path '\(path)' is too long" }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in bytes.enumerated() { buffer[i] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // A stale file from a process that is gone refuses connections; the listener replaces it.
        return connected == 0 ? "another process is serving this socket (is another jacod running?)" : nil
    }

    private static func reason(_ code: Int32) -> String {
        switch code {
        case EADDRINUSE: "address already in use (is another jacod, or another program, listening there?)"
        case EACCES: "permission denied (ports below 1024 need privileges)"
        case EADDRNOTAVAIL: "this machine has no such address"
        default: String(cString: strerror(code))
        }
    }
}
