import Foundation

/// Whether a daemon can do its work: what `/v1/jaco/ready`, `jaco cluster status` and load
/// balancers read. Liveness needs no report: a daemon that answers at all is alive.
public struct Readiness: Sendable, Equatable {
    /// Bootstrap has run (`jaco cluster init` or `PUT /v1/acl/bootstrap`).
    public var initialized: Bool
    /// The store answered a read just now (and, on a shared store, the change feed is up).
    public var storeReachable: Bool
    /// The verification cache is loaded from the store (always so once the kernel runs).
    public var cacheLoaded: Bool

    /// Creates a report.
    public init(initialized: Bool, storeReachable: Bool, cacheLoaded: Bool) {
        self.initialized = initialized
        self.storeReachable = storeReachable
        self.cacheLoaded = cacheLoaded
    }

    /// All three hold.
    public var ready: Bool { initialized && storeReachable && cacheLoaded }

    /// What keeps the daemon from being ready, each with what to do.
    public var problems: [String] {
        var problems: [String] = []
        if !storeReachable { problems.append("the token store cannot be reached") }
        if !cacheLoaded { problems.append("the verification cache is not loaded yet") }
        if !initialized && storeReachable { problems.append("the cluster is not initialized: run 'jaco cluster init'") }
        return problems
    }

    /// The report as a JSON object: `ready`, `initialized`, `store_reachable`, `cache_loaded`,
    /// `problems`.
    public var json: [UInt8] {
        let problems = problems.map { "\"\($0.replacingOccurrences(of: "\"", with: "'"))\"" }.joined(separator: ",")
        return Array("{\"ready\":\(ready),\"initialized\":\(initialized),\"store_reachable\":\(storeReachable),\"cache_loaded\":\(cacheLoaded),\"problems\":[\(problems)]}\n".utf8)
    }

    /// The liveness answer's body.
    public static let aliveJSON = Array("{\"alive\":true}\n".utf8)
}

extension Kernel {
    /// Checks readiness with one store read (two until bootstrap has been seen); a store that
    /// fails the read is reported unreachable, with `initialized` false as unknown.
    public func readiness() async -> Readiness {
        let feedUp = (storage as? any ReachabilityReporting)?.isReachable ?? true
        do {
            let initialized = try await tokens.isInitialized()
            let reachable = try await storage.read { _ in true }
            return Readiness(initialized: initialized, storeReachable: feedUp && reachable, cacheLoaded: true)
        } catch {
            return Readiness(initialized: false, storeReachable: false, cacheLoaded: true)
        }
    }
}
