import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import JacoKernel
import JacoNIOSSL
import SwiftProtobuf

/// The `jaco` CLI's connection to a daemon: gRPC over TLS pinned to the cluster CA, or the
/// local unix socket. Every failure surfaces as a `JacoError` with a stable code.
public struct JacoClient: Sendable {
    /// Where the daemon is.
    public enum Target: Sendable {
        /// TCP `host:port`, TLS with this CA certificate (PEM) as the only trust root.
        case tls(host: String, port: Int, caCertificate: String)
        /// TCP without TLS (only for daemons that allow plaintext on loopback).
        case plaintext(host: String, port: Int)
        /// The daemon's unix socket; callers are the `local` identity.
        case unixSocket(path: String)
    }

    /// A client certificate and its key (PEM files), for listeners with `verify_incoming`.
    public struct ClientCertificate: Sendable {
        /// The certificate (chain) file.
        public var certificate: String
        /// The private key file.
        public var key: String

        /// Pairs the two paths.
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    let target: Target
    let token: String?
    let clientCertificate: ClientCertificate?

    /// Creates a client; `token` is sent as `authorization: Bearer <token>`, and on TLS
    /// `clientCertificate` is presented when given.
    public init(target: Target, token: String?, clientCertificate: ClientCertificate? = nil) {
        self.target = target
        self.token = token
        self.clientCertificate = clientCertificate
    }

    /// Runs `body` with a connected gRPC client, mapping every error to a `JacoError`.
    func withClient<R: Sendable>(_ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> R) async throws(JacoError) -> R {
        let transport: HTTP2ClientTransport.Posix
        do {
            switch target {
            case .tls(let host, let port, let ca):
                guard FileManager.default.isReadableFile(atPath: ca) else {
                    throw JacoError(.configInvalid, "cannot read the CA certificate '\(ca)'; pass --ca-cert or set JACO_CA_CERT to the cluster's ca.crt")
                }
                transport = try HTTP2ClientTransport.Posix(
                    target: Self.resolvable(host: host, port: port), transportSecurity: .customSecure,
                    config: try Self.tlsConfig(host: host, caCertificate: ca, clientCertificate: clientCertificate))
            case .plaintext(let host, let port):
                transport = try HTTP2ClientTransport.Posix(target: Self.resolvable(host: host, port: port), transportSecurity: .plaintext, config: Self.config)
            case .unixSocket(let path):
                guard FileManager.default.fileExists(atPath: path) else {
                    throw JacoError(.unavailable, "no daemon socket at '\(path)'; is jacod running, and is this its --socket path?")
                }
                transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: path), transportSecurity: .plaintext, config: Self.config)
            }
        } catch let error as JacoError {
            throw error
        } catch {
            throw JacoError(.unavailable, "cannot set up a connection to \(describeTarget): \(error)")
        }
        do {
            return try await withGRPCClient(transport: transport) { client in try await body(client) }
        } catch let error as JacoError {
            throw error
        } catch let error as RPCError {
            throw translate(error)
        } catch {
            throw JacoError(.unavailable, "the call to \(describeTarget) failed: \(error)")
        }
    }

    private static let config = HTTP2ClientTransport.Posix.Config.defaults { config in
        config.backoff = .init(initial: .milliseconds(100), max: .milliseconds(500), multiplier: 1.6, jitter: 0.2)
        config.connection.maxIdleTime = .seconds(30)
        // Send each request at once rather than hold it up to 100 µs for company.
        config.connection.flushCoalescing = nil
    }

    /// The transport config for TLS: Jaco's own client configuration (the version floor and
    /// suites every Jaco TLS endpoint uses), set up on each new connection.
    private static func tlsConfig(host: String, caCertificate: String, clientCertificate: ClientCertificate?) throws(JacoError) -> HTTP2ClientTransport.Posix.Config {
        let tls = try NIOTLSConfiguration.client(
            trusting: caCertificate, clientCertificate: clientCertificate.map { ($0.certificate, $0.key) },
            applicationProtocols: ["grpc-exp", "h2"])
        var config = Self.config
        config.channelDebuggingCallbacks.onCreateTCPConnection = try NIOTLSConfiguration.clientHandlerInstaller(tls, host: host)
        return config
    }

    /// Call options: fail fast rather than wait for a server that is not there.
    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(30)
        options.waitForReady = false
        return options
    }

    /// The bearer token as metadata.
    var metadata: Metadata {
        var metadata: Metadata = [:]
        if let token { metadata.addString("Bearer \(token)", forKey: "authorization") }
        return metadata
    }

    var describeTarget: String {
        switch target {
        case .tls(let host, let port, _), .plaintext(let host, let port): "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .unixSocket(let path): path
        }
    }

    private func translate(_ error: RPCError) -> JacoError {
        let translated = JacoError(error)
        // An error jacod sent (it carries Jaco's code) is the server's own answer, not a failure to reach it.
        let fromServer = error.metadata[stringValues: errorCodeKey].contains { _ in true }
        guard translated.code == .unavailable, !fromServer, case .tls(_, _, let ca) = target else { return translated }
        let text = "\(error)".lowercased()
        // The server's alerts: this listener has verify_incoming and did not take our certificate.
        if text.contains("alert_certificate_required") {
            return JacoError(.unavailable, "TLS with \(describeTarget) failed: the server demands a client certificate and none was given; pass --client-cert and --client-key (one the listener's client CA signed, e.g. from 'jaco cluster cert issue --client NAME')", cause: error.message)
        }
        if let certificate = clientCertificate?.certificate,
            ["alert_unknown_ca", "alert_bad_certificate", "alert_certificate_", "alert_unsupported_certificate", "alert_access_denied"].contains(where: text.contains)
        {
            return JacoError(.unavailable, "TLS with \(describeTarget) failed: the server did not accept the client certificate '\(certificate)' (not signed by the listener's client CA, expired, or not for client use)", cause: error.message)
        }
        if text.contains("certificate") || text.contains("handshake") || text.contains("ssl") || text.contains("tls") {
            return JacoError(.unavailable, "TLS with \(describeTarget) failed: the server's certificate is not trusted by the CA in '\(ca)' (is it this cluster's ca.crt?)", cause: error.message)
        }
        return JacoError(.unavailable, "cannot reach the Jaco server at \(describeTarget): \(error.message); is jacod running there?")
    }

    private static func resolvable(host: String, port: Int) -> any ResolvableTarget {
        if host.contains(":") { return .ipv6(address: host, port: port) }
        if NIOTLSConfiguration.isAddress(host) { return .ipv4(address: host, port: port) }
        return .dns(host: host, port: port)
    }
}

/// One open connection to a daemon, for several calls in a row.
public struct JacoSession: Sendable {
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    let metadata: Metadata
    let options: CallOptions

    private var tokens: Jaco_V1_TokenService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    private var cluster: Jaco_V1_ClusterService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    private var auditLog: Jaco_V1_AuditService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    private var deploy: Jaco_V1_DeployService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }

    /// Call options without a deadline, for calls that take as long as the data does.
    private var unbounded: CallOptions {
        var options = self.options
        options.timeout = nil
        return options
    }

    /// Bootstraps the cluster; returns the bootstrap token's secret.
    public func initCluster() async throws -> String {
        try await cluster.initCluster(Jaco_V1_InitClusterRequest(), metadata: metadata, options: options).secret
    }

    /// The daemon's status.
    public func status() async throws -> Jaco_V1_GetClusterStatusResponse {
        try await cluster.getClusterStatus(Jaco_V1_GetClusterStatusRequest(), metadata: metadata, options: options)
    }

    /// Streams a snapshot of the whole store to `handle`, chunk by chunk.
    public func saveSnapshot(_ handle: @escaping @Sendable (Data) async throws -> Void) async throws {
        try await cluster.saveSnapshot(Jaco_V1_SaveSnapshotRequest(), metadata: metadata, options: unbounded) { response in
            for try await message in response.messages { try await handle(message.chunk) }
        }
    }

    /// Sends a snapshot file in chunks; the daemon replaces its state with it.
    public func restoreSnapshot(_ data: Data, chunkSize: Int = 1 << 20) async throws -> Jaco_V1_SnapshotHeader {
        try await cluster.restoreSnapshot(metadata: metadata, options: unbounded, requestProducer: { writer in
            var offset = 0
            repeat {
                var message = Jaco_V1_RestoreSnapshotRequest()
                message.chunk = data.subdata(in: offset..<min(offset + chunkSize, data.count))
                try await writer.write(message)
                offset += chunkSize
            } while offset < data.count
        }).snapshot
    }

    /// Has the cluster CA sign a client certificate for `name` over the key in `requestPEM`.
    public func issueClientCertificate(name: String, requestPEM: String, days: Int) async throws -> Jaco_V1_IssueClientCertificateResponse {
        var request = Jaco_V1_IssueClientCertificateRequest()
        request.name = name
        request.certificateRequestPem = requestPEM
        request.validityDays = Int32(clamping: days)
        return try await cluster.issueClientCertificate(request, metadata: metadata, options: options)
    }

    /// Issues a token, expiring after `ttl` when given; returns it and its secret.
    public func issue(identity: String, allowsPrivileged: Bool, ttl: TimeInterval? = nil) async throws -> Jaco_V1_IssueTokenResponse {
        var request = Jaco_V1_IssueTokenRequest()
        request.identity = identity
        request.allowsPrivileged = allowsPrivileged
        if let ttl { request.ttl = Google_Protobuf_Duration(rounding: ttl, rule: .toNearestOrAwayFromZero) }
        return try await tokens.issueToken(request, metadata: metadata, options: options)
    }

    /// Gives a token a new secret; the previous one works on for `grace`.
    public func rotate(_ reference: TokenReference, grace: TimeInterval, force: Bool) async throws -> Jaco_V1_RotateTokenResponse {
        var request = Jaco_V1_RotateTokenRequest()
        switch reference {
        case .identity(let identity): request.identity = identity
        case .accessorID(let accessorID): request.accessorID = accessorID
        }
        if grace > 0 { request.grace = Google_Protobuf_Duration(rounding: grace, rule: .toNearestOrAwayFromZero) }
        request.force = force
        return try await tokens.rotateToken(request, metadata: metadata, options: options)
    }

    /// Reports leaked secrets; their tokens are revoked (no token needed).
    public func revokeLeaked(secrets: [String]) async throws -> [Jaco_V1_LeakedSecretOutcome] {
        var request = Jaco_V1_RevokeLeakedSecretsRequest()
        request.secrets = secrets
        return try await tokens.revokeLeakedSecrets(request, metadata: metadata, options: options).outcomes
    }

    /// Logs in with auth method `method` and `credential` (a JWT); no token needed.
    public func login(method: String, credential: String, meta: [String: String]) async throws -> Jaco_V1_LoginResponse {
        var request = Jaco_V1_LoginRequest()
        (request.authMethod, request.bearerToken, request.meta) = (method, credential, meta)
        return try await tokens.login(request, metadata: metadata, options: options)
    }

    /// Deletes the calling login token.
    public func logout() async throws {
        _ = try await tokens.logout(Jaco_V1_LogoutRequest(), metadata: metadata, options: options)
    }

    /// Revokes the token bound to `identity`.
    public func revoke(identity: String) async throws -> Jaco_V1_Token {
        var request = Jaco_V1_RevokeTokenRequest()
        request.identity = identity
        return try await tokens.revokeToken(request, metadata: metadata, options: options).token
    }

    /// One page of tokens (`pageSize` 0: the server's default), after the page whose
    /// `nextPageToken` is `pageToken` (empty: the first page).
    public func list(pageSize: Int, pageToken: String) async throws -> Jaco_V1_ListTokensResponse {
        var request = Jaco_V1_ListTokensRequest()
        request.pageSize = Int32(clamping: pageSize)
        request.pageToken = pageToken
        return try await tokens.listTokens(request, metadata: metadata, options: options)
    }

    /// Hands audit events to `handle`, oldest first, a page at a time; with `follow`, as one
    /// stream of the stored events and then each new one as it commits, until the server ends it.
    public func audit(since: Date?, types: [String], follow: Bool, handle: @escaping @Sendable (Jaco_V1_AuditEvent) async throws -> Void) async throws {
        if follow {
            var watch = Jaco_V1_WatchAuditEventsRequest()
            if let since { watch.since = Google_Protobuf_Timestamp(date: since) }
            watch.types = types
            try await auditLog.watchAuditEvents(watch, metadata: metadata, options: unbounded) { response in
                for try await message in response.messages { try await handle(message.event) }
            }
            return
        }
        var request = Jaco_V1_ListAuditEventsRequest()
        if let since { request.since = Google_Protobuf_Timestamp(date: since) }
        request.types = types
        repeat {
            let page = try await auditLog.listAuditEvents(request, metadata: metadata, options: options)
            for event in page.events { try await handle(event) }
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
    }

    /// Checks the audit hash chain.
    public func verifyAuditChain() async throws -> Jaco_V1_VerifyAuditChainResponse {
        try await auditLog.verifyAuditChain(Jaco_V1_VerifyAuditChainRequest(), metadata: metadata, options: options)
    }

    /// Checks a manifest's schema without storing it.
    public func validate(manifest: Data) async throws -> Jaco_V1_ValidateManifestResponse {
        var request = Jaco_V1_ValidateManifestRequest()
        request.manifest = manifest
        return try await deploy.validateManifest(request, metadata: metadata, options: options)
    }

    /// Admits and stores a manifest as the deployment's next revision.
    public func apply(deployment: String, manifest: Data) async throws -> Jaco_V1_ApplyManifestResponse {
        var request = Jaco_V1_ApplyManifestRequest()
        request.deployment = deployment
        request.manifest = manifest
        return try await deploy.applyManifest(request, metadata: metadata, options: options)
    }
}

extension JacoClient {
    /// Runs `body` with one connection for several calls; errors become `JacoError`s.
    public func connected<R: Sendable>(_ body: @Sendable (JacoSession) async throws -> R) async throws(JacoError) -> R {
        try await withClient { [metadata, options] client in
            try await body(JacoSession(client: client, metadata: metadata, options: options))
        }
    }

    /// Bootstraps the cluster; returns the bootstrap token's secret.
    public func initCluster() async throws(JacoError) -> String { try await connected { try await $0.initCluster() } }

    /// The daemon's status.
    public func status() async throws(JacoError) -> Jaco_V1_GetClusterStatusResponse { try await connected { try await $0.status() } }

    /// Has the cluster CA sign a client certificate; see the connection's method.
    public func issueClientCertificate(name: String, requestPEM: String, days: Int) async throws(JacoError) -> Jaco_V1_IssueClientCertificateResponse {
        try await connected { try await $0.issueClientCertificate(name: name, requestPEM: requestPEM, days: days) }
    }

    /// Issues a token, expiring after `ttl` when given; returns it and its secret.
    public func issue(identity: String, allowsPrivileged: Bool, ttl: TimeInterval? = nil) async throws(JacoError) -> Jaco_V1_IssueTokenResponse {
        try await connected { try await $0.issue(identity: identity, allowsPrivileged: allowsPrivileged, ttl: ttl) }
    }

    /// Gives a token a new secret; see the connection's method.
    public func rotate(_ reference: TokenReference, grace: TimeInterval, force: Bool) async throws(JacoError) -> Jaco_V1_RotateTokenResponse {
        try await connected { try await $0.rotate(reference, grace: grace, force: force) }
    }

    /// Reports leaked secrets; see the connection's method.
    public func revokeLeaked(secrets: [String]) async throws(JacoError) -> [Jaco_V1_LeakedSecretOutcome] {
        try await connected { try await $0.revokeLeaked(secrets: secrets) }
    }

    /// Logs in; see the connection's method.
    public func login(method: String, credential: String, meta: [String: String] = [:]) async throws(JacoError) -> Jaco_V1_LoginResponse {
        try await connected { try await $0.login(method: method, credential: credential, meta: meta) }
    }

    /// Deletes the calling login token.
    public func logout() async throws(JacoError) {
        try await connected { try await $0.logout() }
    }

    /// Revokes the token bound to `identity`.
    public func revoke(identity: String) async throws(JacoError) -> Jaco_V1_Token {
        try await connected { try await $0.revoke(identity: identity) }
    }

    /// One page of tokens; see the connection's `list(pageSize:pageToken:)`.
    public func list(pageSize: Int = 0, pageToken: String = "") async throws(JacoError) -> Jaco_V1_ListTokensResponse {
        try await connected { try await $0.list(pageSize: pageSize, pageToken: pageToken) }
    }

    /// Streams audit events to `handle`, oldest first; with `follow`, until interrupted.
    public func audit(since: Date?, types: [String], follow: Bool, handle: @escaping @Sendable (Jaco_V1_AuditEvent) async throws -> Void) async throws(JacoError) {
        try await connected { try await $0.audit(since: since, types: types, follow: follow, handle: handle) }
    }

    /// Checks the audit hash chain.
    public func verifyAuditChain() async throws(JacoError) -> Jaco_V1_VerifyAuditChainResponse {
        try await connected { try await $0.verifyAuditChain() }
    }

    /// Admits and stores a manifest as the deployment's next revision.
    public func apply(deployment: String, manifest: Data) async throws(JacoError) -> Jaco_V1_ApplyManifestResponse {
        try await connected { try await $0.apply(deployment: deployment, manifest: manifest) }
    }
}

