import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOSSL
import JacoKernel
import JacoNIOSSL
import Synchronization

/// Connections to an etcd cluster's client endpoints, with failover: a call that cannot reach
/// one endpoint is retried on the next; the endpoint that answered last is tried first.
final class EtcdEndpoints: Sendable {
    /// One endpoint's address and TLS choice.
    struct Endpoint: Sendable, CustomStringConvertible {
        var host: String
        var port: Int
        var tls: Bool
        var description: String { "\(tls ? "https" : "http")://\(HostPort.format(host: host, port: port))" }

        /// Parses `http://host:port`, `https://host:port` or `host:port`.
        static func parse(_ text: String) throws(JacoError) -> Endpoint {
            var rest = Substring(text)
            var tls = false
            if rest.hasPrefix("https://") { tls = true; rest = rest.dropFirst(8) } else if rest.hasPrefix("http://") { rest = rest.dropFirst(7) }
            let (host, port) = try HostPort.parse(String(rest))
            return Endpoint(host: host, port: port, tls: tls)
        }
    }

    /// TLS to etcd: a CA to trust, and optionally a client certificate.
    struct TLSSettings: Sendable {
        var caCertificate: String?
        var clientCertificate: String?
        var clientKey: String?
    }

    /// Which connection a call uses: unary calls share one per endpoint, replaced after
    /// ``callsPerConnection`` calls; watches get their own, which is never replaced.
    enum Purpose: Sendable {
        case unary
        case watch
    }

    private struct ConnectionKey: Hashable {
        var endpoint: Int
        var purpose: Purpose
    }

    private struct Connection: Sendable {
        let id: Int
        let client: GRPCClient<HTTP2ClientTransport.Posix>
        let task: Task<Void, Never>
        /// Calls handed this connection so far, and those not yet returned.
        var calls: Int
        var inFlight: Int
    }

    /// A call's hold on a connection: which slot it came from, and which connection it was.
    private struct Lease {
        var key: ConnectionKey
        var id: Int
    }

    /// Unary calls one connection carries before it is replaced (the old one finishes its calls
    /// and closes). etcd's gRPC server (grpc-go) answers request data with flow-control PINGs,
    /// up to one per request; swift-nio-http2 closes a connection that receives more than 200
    /// PING/SETTINGS frames in 30 s (GOAWAY ENHANCE_YOUR_CALM), and grpc-swift-nio-transport
    /// does not let that limit be raised. Replacing the connection first keeps every call
    /// clear of that drop, with room for SETTINGS and keepalive acks.
    static let callsPerConnection = 150

    private struct State {
        var connections: [ConnectionKey: Connection] = [:]
        /// Replaced connections still finishing their calls, by id.
        var retiring: [Int: Connection] = [:]
        var nextID = 0
        var preferred = 0
        var authToken: String?
        var closed = false
        var droppedCalls = 0
    }

    let endpoints: [Endpoint]
    private let tls: TLSSettings
    private let credentials: (user: String, password: String)?
    private let state = Mutex(State())

    /// How many calls an endpoint did not answer for want of a connection (each then tried again
    /// or given up on); a conditional write that lost its answer is reported, not counted.
    var droppedCalls: Int { state.withLock { $0.droppedCalls } }
    /// How long one call may take before it counts as failed.
    let callTimeout: Duration

    init(endpoints: [Endpoint], tls: TLSSettings, credentials: (user: String, password: String)?, callTimeout: Duration) {
        self.endpoints = endpoints
        self.tls = tls
        self.credentials = credentials
        self.callTimeout = callTimeout
    }

    /// Runs `body` against the preferred endpoint, failing over to the others when one cannot be
    /// reached. Errors that are not about reachability are not retried.
    ///
    /// With `idempotent: false` (writes) a call is retried only when it surely never reached a
    /// server (no connection); any other failure may have applied it, so it is reported
    /// `unavailable` with the outcome unknown rather than sent again.
    func call<R: Sendable>(_ what: String, idempotent: Bool = true, purpose: Purpose = .unary, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, Metadata, CallOptions) async throws -> R) async throws -> R {
        let start = state.withLock { $0.preferred }
        var lastError: (any Error)?
        // Three rounds over the endpoints, pausing between rounds: a connection that just
        // dropped gets time to reconnect, a dead member is passed over at once.
        for step in 0..<(endpoints.count * 3) {
            if step > 0, step % endpoints.count == 0 { try await Task.sleep(for: .milliseconds(100 * (step / endpoints.count))) }
            let index = (start + step) % endpoints.count
            do {
                let (client, lease) = try connection(index, for: purpose)
                defer { release(lease) }
                let metadata = try await authMetadata(client)
                let result = try await body(client, metadata, options)
                state.withLock { $0.preferred = index }
                return result
            } catch let error as RPCError where Self.isReachability(error) {
                if !idempotent && !Self.neverSent(error) {
                    throw JacoError(.outcomeUnknown, "etcd did not confirm \(what) (\(error.code): \(error.message)); it may or may not have been applied")
                }
                state.withLock { $0.droppedCalls += 1 }
                lastError = error
                continue
            } catch let error as RPCError where error.code == .unauthenticated && credentials != nil {
                // The auth token expired: forget it and retry once on this endpoint.
                state.withLock { $0.authToken = nil }
                lastError = error
                continue
            }
        }
        throw JacoError(.unavailable, "etcd is unreachable for \(what) (tried \(endpoints.map(\.description).joined(separator: ", "))): \(Self.describe(lastError))")
    }

    /// Call options: a deadline, and no waiting for a connection that is not there.
    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = callTimeout
        options.waitForReady = false
        return options
    }

    /// Whether an RPC error means the endpoint could not serve the call (try another).
    static func isReachability(_ error: RPCError) -> Bool {
        switch error.code {
        case .unavailable, .deadlineExceeded, .cancelled, .unknown: true
        default: false
        }
    }

    /// Whether the call failed before any server could have seen it.
    static func neverSent(_ error: RPCError) -> Bool {
        error.code == .unavailable && (error.message.contains("isn't ready") || error.message.lowercased().contains("connection refused")
            || error.message.contains("no subchannel"))
    }

    static func describe(_ error: (any Error)?) -> String {
        guard let error else { return "no endpoint" }
        guard let rpc = error as? RPCError else { return "\(error)" }
        if let cause = rpc.cause, let problem = tlsProblem(cause) { return problem }
        return "\(rpc.code): \(rpc.message)"
    }

    /// What a failed TLS handshake with etcd means for the config, or nil when `cause` is not one.
    static func tlsProblem(_ cause: any Error) -> String? {
        let detail: String
        switch cause {
        case let error as NIOSSLError: detail = "\(error)"
        case let error as BoringSSLError: detail = "\(error)"
        default: return nil
        }
        if detail.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS handshake failed: etcd's certificate is not signed by the CA in ca_cert, or does not name the endpoint's host (\(detail))"
        }
        if detail.contains("BAD_CERTIFICATE") || detail.contains("CERTIFICATE_REQUIRED") || detail.contains("UNKNOWN_CA") {
            return "TLS handshake failed: etcd refused the client certificate; set cert and key to one its --trusted-ca-file trusts (\(detail))"
        }
        if detail.contains("WRONG_VERSION_NUMBER") {
            return "TLS handshake failed: the endpoint does not speak TLS; use an http:// endpoint (\(detail))"
        }
        return "TLS handshake with etcd failed (\(detail))"
    }

    private func authMetadata(_ client: GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Metadata {
        guard let credentials else { return [:] }
        if let token = state.withLock({ $0.authToken }) { return ["token": "\(token)"] }
        var request = Etcdserverpb_AuthenticateRequest()
        request.name = credentials.user
        request.password = credentials.password
        let response = try await Etcdserverpb_Auth.Client(wrapping: client).authenticate(request, options: options)
        state.withLock { $0.authToken = response.token }
        return ["token": "\(response.token)"]
    }

    /// The client for endpoint `index` and `purpose`, connecting on first use, and a lease on
    /// it to hand back to ``release(_:)`` when the call is done. A unary connection that has
    /// carried ``callsPerConnection`` calls is replaced; it closes once its last lease returns,
    /// so no call ever starts on, or is cut off by, a closing connection.
    private func connection(_ index: Int, for purpose: Purpose) throws -> (GRPCClient<HTTP2ClientTransport.Posix>, lease: Lease) {
        let (client, lease, retired) = try state.withLock { s -> (GRPCClient<HTTP2ClientTransport.Posix>, Lease, GRPCClient<HTTP2ClientTransport.Posix>?) in
            if s.closed { throw JacoError(.closed, "the etcd store is closed") }
            let key = ConnectionKey(endpoint: index, purpose: purpose)
            var retired: GRPCClient<HTTP2ClientTransport.Posix>?
            if var existing = s.connections[key] {
                if purpose == .watch || existing.calls < Self.callsPerConnection {
                    existing.calls += 1
                    existing.inFlight += 1
                    s.connections[key] = existing
                    return (existing.client, Lease(key: key, id: existing.id), nil)
                }
                s.retiring[existing.id] = existing
                if existing.inFlight == 0 { retired = existing.client }
            }
            let client = GRPCClient(transport: try makeTransport(endpoints[index]))
            let id = s.nextID
            s.nextID += 1
            let task = Task { [weak self] in
                _ = try? await client.runConnections()
                _ = self?.state.withLock { $0.retiring.removeValue(forKey: id) }
            }
            s.connections[key] = Connection(id: id, client: client, task: task, calls: 1, inFlight: 1)
            return (client, Lease(key: key, id: id), retired)
        }
        retired?.beginGracefulShutdown()
        return (client, lease)
    }

    /// Hands back a lease from ``connection(_:for:)``; the last lease on a replaced connection
    /// closes it.
    private func release(_ lease: Lease) {
        let retired = state.withLock { s -> GRPCClient<HTTP2ClientTransport.Posix>? in
            if s.connections[lease.key]?.id == lease.id {
                s.connections[lease.key]?.inFlight -= 1
                return nil
            }
            guard var connection = s.retiring[lease.id] else { return nil }
            connection.inFlight -= 1
            s.retiring[lease.id] = connection
            return connection.inFlight == 0 ? connection.client : nil
        }
        retired?.beginGracefulShutdown()
    }

    private func makeTransport(_ endpoint: Endpoint) throws -> HTTP2ClientTransport.Posix {
        var config = Self.transportConfig
        if endpoint.tls {
            // Jaco's own client TLS (version floor, suites), set up on each new connection.
            let client = tls.clientCertificate.flatMap { cert in tls.clientKey.map { (certificate: cert, key: $0) } }
            let configuration = try NIOTLSConfiguration.client(trusting: tls.caCertificate, clientCertificate: client, applicationProtocols: ["h2"])
            config.channelDebuggingCallbacks.onCreateTCPConnection = try NIOTLSConfiguration.clientHandlerInstaller(configuration, host: endpoint.host)
        }
        let target: any ResolvableTarget = endpoint.host.contains(":")
            ? .ipv6(address: endpoint.host, port: endpoint.port)
            : (endpoint.host.first?.isNumber == true ? .ipv4(address: endpoint.host, port: endpoint.port) : .dns(host: endpoint.host, port: endpoint.port))
        return try HTTP2ClientTransport.Posix(target: target, transportSecurity: endpoint.tls ? .customSecure : .plaintext, config: config)
    }

    private static let transportConfig = HTTP2ClientTransport.Posix.Config.defaults { config in
        config.backoff = .init(initial: .milliseconds(50), max: .milliseconds(500), multiplier: 1.6, jitter: 0.2)
        // Notice a dead member even when only a watch is open. etcd answers pings more often
        // than every 5 s (its --grpc-keepalive-min-time) by closing the connection.
        config.connection.keepalive = .init(time: .seconds(10), timeout: .seconds(3), allowWithoutCalls: false)
        // Send each request at once rather than hold it up to 100 µs for company.
        config.connection.flushCoalescing = nil
    }

    /// Closes every connection.
    func close() async {
        let connections = state.withLock { s in
            s.closed = true
            defer { s.connections = [:]; s.retiring = [:] }
            return Array(s.connections.values) + Array(s.retiring.values)
        }
        for connection in connections { connection.client.beginGracefulShutdown() }
        // Let in-flight calls finish, for at most two seconds; then close the connections at
        // once. (A graceful close waits for the server to end its streams, which a member that
        // stopped answering never does.) The group ends only when its waiting task does: the
        // connections' own tasks must be cancelled inside it, as cancelling the group does not
        // reach them.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for connection in connections { await connection.task.value } }
            group.addTask { try? await Task.sleep(for: Self.gracefulCloseTime) }
            await group.next()
            for connection in connections { connection.task.cancel() }
            group.cancelAll()
        }
    }

    /// How long ``close()`` lets in-flight calls finish before it closes the connections.
    static let gracefulCloseTime = Duration.seconds(2)
}
