import Foundation
import GRPCCore
import JacoKernel

/// Decides who is calling: from the bearer token in the `authorization` metadata, or, on the
/// local unix socket, the built-in `local` identity (file permissions on the socket are its
/// access control).
struct CallerResolver: Sendable {
    /// How callers authenticate on one listener.
    enum Mode: Sendable {
        /// `authorization: Bearer <secret>` is required.
        case bearerToken
        /// Every caller is `local`, with management rights and without the privileged flag.
        case localSocket
    }

    let kernel: Kernel
    let mode: Mode
    /// Failed authentications per caller address (TCP listeners that verify tokens).
    var throttle: AuthThrottle? = nil

    /// The principal making the call from `peer` (`ServerContext.remotePeer`);
    /// `cluster_uninitialized` before bootstrap, except for `local` on the unix socket where
    /// `localBeforeBootstrap` (a restore into a fresh daemon). A caller whose address failed
    /// to authenticate too often is `rate_limited`.
    func principal(_ metadata: Metadata, peer: String, localBeforeBootstrap: Bool = false) async throws(JacoError) -> Principal {
        if localBeforeBootstrap, mode == .localSocket { return Self.local }
        do {
            guard try await kernel.tokens.isInitialized() else {
                let hint = localBeforeBootstrap ? "; to restore a snapshot into a fresh daemon, use its unix socket (--socket)" : ""
                throw JacoError(.clusterUninitialized, "the cluster is not initialized; run 'jaco cluster init' first\(hint)")
            }
        } catch let error as JacoError {
            throw error
        } catch {
            throw JacoError(.unavailable, "cannot read the store: \(error)")
        }
        switch mode {
        case .localSocket:
            return Self.local
        case .bearerToken:
            let secret = try Self.bearerToken(metadata)
            return try await kernel.tokens.verifyCatchingUp(secret: secret) { secret throws(JacoError) in try verify(secret, peer: peer) }
        }
    }

    /// Verifies `secret` through the listener's throttle, if it has one.
    private func verify(_ secret: String, peer: String) throws(JacoError) -> Principal {
        guard let throttle else { return try kernel.tokens.verify(secret: secret) }
        return try throttle.verify(secret: secret, from: Self.address(ofPeer: peer)) { secret throws(JacoError) in
            try kernel.tokens.verify(secret: secret)
        }
    }

    /// The IP address in a gRPC peer description (`ipv4:10.0.0.7:51234`, `ipv6:[::1]:443`);
    /// nil for other transports (unix sockets, in-process).
    static func address(ofPeer peer: String) -> String? {
        if peer.hasPrefix("ipv4:") {
            let hostPort = peer.dropFirst("ipv4:".count)
            return hostPort.lastIndex(of: ":").map { String(hostPort[..<$0]) } ?? String(hostPort)
        }
        if peer.hasPrefix("ipv6:[") {
            let rest = peer.dropFirst("ipv6:[".count)
            return rest.firstIndex(of: "]").map { String(rest[..<$0]) }
        }
        return nil
    }

    static let local = Principal(
        accessorID: BuiltIn.localIdentity, identity: BuiltIn.localIdentity,
        policyIDs: [BuiltIn.globalManagementPolicyID], allowsPrivileged: false, acl: .write)

    /// The secret from `authorization: Bearer <secret>`.
    static func bearerToken(_ metadata: Metadata) throws(JacoError) -> String {
        guard let header = metadata[stringValues: "authorization"].first(where: { _ in true }) else {
            throw JacoError(.tokenInvalid, "no token was presented; pass --token or set JACO_TOKEN")
        }
        // On UTF-8 bytes: counting characters, lowercasing and Foundation's trimming cost more
        // per call than the verify did (perf under h2load).
        let utf8 = header.utf8
        let scheme = "bearer".utf8
        guard utf8.count > scheme.count + 1,
            zip(utf8.prefix(scheme.count), scheme).allSatisfy({ $0 | 0x20 == $1 }),
            utf8[utf8.index(utf8.startIndex, offsetBy: scheme.count)] == UInt8(ascii: " ")
        else {
            throw JacoError(.tokenInvalid, "the authorization metadata must be 'Bearer <token>'")
        }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let rest = utf8.dropFirst(scheme.count + 1)
        guard let first = rest.firstIndex(where: { !isBlank($0) }), let last = rest.lastIndex(where: { !isBlank($0) }) else {
            throw JacoError(.tokenInvalid, "the authorization metadata must be 'Bearer <token>'")
        }
        return String(Substring(utf8[first...last]))
    }
}
