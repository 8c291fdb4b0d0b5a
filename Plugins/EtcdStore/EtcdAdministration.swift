import Foundation
import GRPCCore
import JacoKernel

/// Operations on the etcd cluster itself, which the store never performs on its own: compacting
/// the history and turning authentication on. Tests use them to drive etcd into the states a
/// deployment meets.
struct EtcdAdministration {
    let store: EtcdStore

    /// Compacts etcd's history up to `revision`: watches from before it then fail `compacted`.
    func compact(upTo revision: StoreIndex) async throws {
        var compaction = Etcdserverpb_CompactionRequest()
        compaction.revision = Int64(revision)
        compaction.physical = true
        let request = compaction
        _ = try await store.endpoints.call("a compaction") { client, metadata, options in
            try await Etcdserverpb_KV.Client(wrapping: client).compact(request, metadata: metadata, options: options)
        }
    }

    /// Creates the `root` user with `password` and the `root` role, and enables authentication.
    func enableAuthentication(rootPassword: String) async throws {
        _ = try await store.endpoints.call("enabling authentication") { client, metadata, options in
            let auth = Etcdserverpb_Auth.Client(wrapping: client)
            var role = Etcdserverpb_AuthRoleAddRequest()
            role.name = "root"
            _ = try await auth.roleAdd(role, metadata: metadata, options: options)
            var user = Etcdserverpb_AuthUserAddRequest()
            user.name = "root"
            user.password = rootPassword
            _ = try await auth.userAdd(user, metadata: metadata, options: options)
            var grant = Etcdserverpb_AuthUserGrantRoleRequest()
            grant.user = "root"
            grant.role = "root"
            _ = try await auth.userGrantRole(grant, metadata: metadata, options: options)
            return try await auth.authEnable(Etcdserverpb_AuthEnableRequest(), metadata: metadata, options: options)
        }
    }
}
