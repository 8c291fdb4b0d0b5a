import Foundation
import JacoKernel
import MemoryStore
import SHA256Hasher

/// The whole kernel in memory, in one call, for other projects' tests:
///
/// ```swift
/// let jaco = try await InProcessJaco.start()
/// let issued = try await jaco.kernel.tokens.issue(identity: "ci", by: jaco.operator)
/// ```
public struct InProcessJaco: Sendable {
    /// The running kernel.
    public let kernel: Kernel
    /// The memory store under it, for fault injection.
    public let store: any Storage & FaultInjecting
    /// The bootstrap token, when the harness initialized the cluster.
    public let bootstrap: IssuedToken?

    /// The bootstrap token's principal: an operator with management rights.
    public var `operator`: Principal {
        get throws { try kernel.tokens.verify(secret: bootstrap?.secret ?? "") }
    }

    /// The hasher harnesses use by default: plain SHA-256.
    public static var defaultHasher: any SecretHasher { SHA256HasherPlugin.sha256() }

    /// Starts a kernel on a fresh memory store with SHA-256, bootstrapped unless `initialized` is false.
    public static func start(
        initialized: Bool = true, hasher: any SecretHasher = defaultHasher, acl: ACLSettings = ACLSettings(),
        clock: @escaping @Sendable () -> Date = { Date.nowMilliseconds() }
    ) async throws -> InProcessJaco {
        let store = MemoryStorePlugin.makeStore()
        let kernel = try await Kernel.start(storage: store, hasher: hasher, acl: acl, clock: clock)
        let bootstrap = initialized ? try await kernel.tokens.bootstrap() : nil
        return InProcessJaco(kernel: kernel, store: store, bootstrap: bootstrap)
    }

    /// Stops the kernel and discards the store.
    public func stop() async throws {
        try await kernel.shutdown()
    }
}
