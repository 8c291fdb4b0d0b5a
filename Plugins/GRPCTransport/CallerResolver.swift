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

    /// The principal making the call; `cluster_uninitialized` before bootstrap, except for
    /// `local` on the unix socket where `localBeforeBootstrap` (a restore into a fresh daemon).
    func principal(_ metadata: Metadata, localBeforeBootstrap: Bool = false) async throws(JacoError) -> Principal {
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
            return try kernel.tokens.verify(secret: try Self.bearerToken(metadata))
        }
    }

    static let local = Principal(
        accessorID: BuiltIn.localIdentity, identity: BuiltIn.localIdentity,
        policyIDs: [BuiltIn.globalManagementPolicyID], allowsPrivileged: false, acl: .write)

    /// The secret from `authorization: Bearer <secret>`.
    static func bearerToken(_ metadata: Metadata) throws(JacoError) -> String {
        guard let header = metadata[stringValues: "authorization"].first(where: { _ in true }) else {
            throw JacoError(.tokenInvalid, "no token was presented; pass --token or set JACO_TOKEN")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else {
            throw JacoError(.tokenInvalid, "the authorization metadata must be 'Bearer <token>'")
        }
        return String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
    }
}
