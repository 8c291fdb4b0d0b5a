import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// An HTTPS client for the daemon's Consul API that pins the cluster CA, as a Consul client
/// configured with `CONSUL_CACERT` would.
final class ConsulClient: Sendable {
    /// One answer: status, headers and body text.
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: String

        /// The body parsed as JSON.
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) }
        /// The body as a JSON object.
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        /// The body as a JSON array of objects.
        var objects: [[String: Any]] { json as? [[String: Any]] ?? [] }
        /// The first value of header `name`.
        func header(_ name: String) -> String? { headers.first(name: name) }
        /// `X-Consul-Index`.
        var index: UInt64? { headers.first(name: "X-Consul-Index").flatMap(UInt64.init) }
    }

    private let client: HTTPClient
    let base: String

    init(base: String, caCertificate: String) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caCertificate))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout.read = .seconds(120)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.base = base
    }

    /// Sends one request; `token` goes in `X-Consul-Token`.
    func send(_ method: HTTPMethod, _ path: String, token: String? = nil, body: String? = nil, headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "X-Consul-Token", value: token) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    func get(_ path: String, token: String? = nil, headers: [(String, String)] = []) async throws -> Answer {
        try await send(.GET, path, token: token, headers: headers)
    }

    func put(_ path: String, token: String? = nil, body: String? = nil) async throws -> Answer {
        try await send(.PUT, path, token: token, body: body)
    }

    func delete(_ path: String, token: String? = nil) async throws -> Answer {
        try await send(.DELETE, path, token: token)
    }

    func shutdown() async throws {
        try await client.shutdown()
    }
}

/// A daemon with a Consul client, bootstrapped over the Consul API; torn down after `body`.
func withConsulDaemon(
    config: String = "memory.toml", environment: [String: String] = [:],
    _ body: (Daemon, ConsulClient, _ management: String) async throws -> Void
) async throws {
    let daemon = try Daemon(config: config, environment: environment)
    defer { daemon.remove() }
    try await daemon.start()
    let consul = try ConsulClient(base: daemon.httpBase, caCertificate: daemon.caCertificate)
    do {
        let bootstrap = try await consul.put("/v1/acl/bootstrap")
        guard bootstrap.status == 200, let secret = bootstrap.object["SecretID"] as? String else {
            throw DaemonError.exited("bootstrap failed: \(bootstrap.status) \(bootstrap.body)")
        }
        try await body(daemon, consul, secret)
    } catch {
        try? await consul.shutdown()
        throw error
    }
    try await consul.shutdown()
}
