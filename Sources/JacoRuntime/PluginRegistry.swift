import ComposeAdmission
import ConsulHTTPTransport
import EtcdStore
import GRPCTransport
import JWTAuthMethod
import JacoKernel
import LMDBStore
import MemoryStore
import OpenSSLHasher
import SHA256Hasher
import SQLiteStore

/// The composition root's one map from config names to plugin factories.
public enum PluginRegistry {
    /// Storage engines by `[storage] engine` name.
    public static let storageEngines: [StorageEngineFactory] = [
        MemoryStorePlugin.factory, SQLiteStorePlugin.factory, LMDBStorePlugin.factory, EtcdStorePlugin.factory,
    ]

    /// Hashers by `[hashing] algorithm` and `provider` name.
    public static let hashers: [HasherFactory] = SHA256HasherPlugin.factories + OpenSSLHasherPlugin.factories

    /// The hashing provider when `[hashing]` names none.
    public static let defaultHashingProvider = "swift-crypto"

    /// Listeners by `[[listeners]] kind`.
    public static let listeners: [ListenerFactory] = GRPCTransportPlugin.factories + ConsulHTTPTransportPlugin.factories

    /// Admission policies by `[admission] policies` name.
    public static let admissionPolicies: [String: @Sendable () -> any AdmissionPolicy] = ComposeAdmissionPlugin.policies

    /// The admission chain when `[admission]` names none.
    public static let defaultAdmissionPolicies = ["privileged"]

    /// The auth-method types logins can use (`Type` of `/v1/acl/auth-method`): a fresh
    /// instance each, as they cache fetched keys.
    public static func authMethodTypes() -> [any AuthMethodType] { [JWTAuthMethodType()] }

    /// The default storage engine when `[storage]` names none.
    public static let defaultEngine = "sqlite"

    /// The default hashing algorithm when `[hashing]` names none.
    public static let defaultAlgorithm = "sha256"
}
