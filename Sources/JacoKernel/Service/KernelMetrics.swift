import CoreMetrics
import Foundation
import Synchronization

/// The kernel's metrics, made once through a swift-metrics factory handed in at start (no
/// global bootstrap). Counters on the verify path are made up front, so counting a failed verify
/// is one atomic add in the backend; successes are counted by the verification cache under its
/// lock and added here, like the gauges of kernel state, when a scrape asks (``refresh(_:)``).
/// The names are Prometheus-style; docs/operations.md lists them.
public final class KernelMetrics: Sendable {
    private let factory: any MetricsFactory
    /// `jaco_verifications_total` by outcome.
    private let verifiedOK, verifiedInvalid, verifiedRevoked, verifiedExpired, verifiedUnavailable: Counter
    private let commitDuration: CoreMetrics.Timer
    private let propagation: CoreMetrics.Timer
    private let cachedTokens: Meter
    private let storeIndex: Meter
    private let appliedIndex: Meter
    private let changeFeedLag: Meter
    private let blockingWaiters: Meter
    private let storeReachable: Meter
    private let denials = Mutex<[String: Counter]>([:])
    private let writes = Mutex<[String: Counter]>([:])
    private let connections = Mutex<[String: Meter]>([:])
    private let refreshHooks = Mutex<[@Sendable (KernelMetrics) -> Void]>([])
    /// The cache's count of successful verifies as of the last refresh.
    private let reportedVerifies = Mutex(0)

    /// Metrics that go nowhere (tests, tools, the in-process harness).
    public static let discarded = KernelMetrics(factory: NOOPMetricsHandler.instance, engine: "none")

    /// Makes every metric through `factory`; `engine` labels the store's commit latency.
    public init(factory: any MetricsFactory, engine: String) {
        self.factory = factory
        func verifications(_ outcome: String) -> Counter {
            Counter(label: "jaco_verifications_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        verifiedOK = verifications("ok")
        verifiedInvalid = verifications("invalid")
        verifiedRevoked = verifications("revoked")
        verifiedExpired = verifications("expired")
        verifiedUnavailable = verifications("unavailable")
        commitDuration = CoreMetrics.Timer(label: "jaco_store_commit_seconds", dimensions: [("engine", engine)], factory: factory)
        propagation = CoreMetrics.Timer(label: "jaco_revocation_propagation_seconds", dimensions: [], factory: factory)
        cachedTokens = Meter(label: "jaco_cached_tokens", dimensions: [], factory: factory)
        storeIndex = Meter(label: "jaco_store_index", dimensions: [], factory: factory)
        appliedIndex = Meter(label: "jaco_applied_index", dimensions: [], factory: factory)
        changeFeedLag = Meter(label: "jaco_change_feed_lag", dimensions: [], factory: factory)
        blockingWaiters = Meter(label: "jaco_blocking_query_waiters", dimensions: [], factory: factory)
        storeReachable = Meter(label: "jaco_store_reachable", dimensions: [], factory: factory)
    }

    /// Counts one failed verify by its error (successes: ``refresh(_:)``).
    func countVerify(_ error: JacoError) {
        switch error.code {
        case .tokenRevoked: verifiedRevoked.increment()
        case .tokenExpired: verifiedExpired.increment()
        case .unavailable: verifiedUnavailable.increment()
        default: verifiedInvalid.increment()
        }
    }

    /// Counts a call or request that a front end refused, by its stable error code
    /// (`jaco_denials_total{code=…}`).
    public func countDenial(_ code: JacoError.Code) {
        counter(in: denials, label: "jaco_denials_total", dimension: ("code", code.rawValue)).increment()
    }

    /// Counts a committed state change by its audit event type (`token_issue`, `token_revoke`,
    /// `policy_create`, …) as `jaco_writes_total{type=…}`.
    func countWrite(type: String) {
        counter(in: writes, label: "jaco_writes_total", dimension: ("type", type)).increment()
    }

    /// Records how long one store commit took.
    func recordCommit(_ duration: Duration) {
        commitDuration.recordNanoseconds(duration.nanoseconds)
    }

    /// Records how long after it was committed (by this or another daemon) a revocation
    /// reached this daemon's cache through the change feed.
    func recordPropagation(revokedAt: Date, seenAt: Date) {
        propagation.recordNanoseconds(Int64(max(0, seenAt.timeIntervalSince(revokedAt)) * 1e9))
    }

    /// Sets `jaco_listener_connections{listener=…}`: a listener's open connections, counted by
    /// whoever can see them (the daemon, from the system's socket tables).
    public func setOpenConnections(_ count: Int, listener: String) {
        let meter = connections.withLock { meters in
            if let meter = meters[listener] { return meter }
            let meter = Meter(label: "jaco_listener_connections", dimensions: [("listener", listener)], factory: factory)
            meters[listener] = meter
            return meter
        }
        meter.set(count)
    }

    /// Adds work to every ``refresh(_:)``: gauges the kernel cannot see, set just before a scrape.
    public func onRefresh(_ hook: @escaping @Sendable (KernelMetrics) -> Void) {
        refreshHooks.withLock { $0.append(hook) }
    }

    /// Adds the successful verifies since the last refresh, and sets the gauges from the
    /// kernel's state: cached tokens, store and applied index, their difference (the change
    /// feed's lag), blocking-query waiters, store reachability. Reads the store's index (one
    /// read); a store that cannot be read is reported unreachable.
    public func refresh(_ kernel: Kernel) async {
        let verified = kernel.cache.verifiedCount
        let newVerifies = reportedVerifies.withLock { reported in
            defer { reported = max(reported, verified) }
            return verified - reported
        }
        if newVerifies > 0 { verifiedOK.increment(by: Int64(newVerifies)) }
        let applied = kernel.cache.appliedIndex
        cachedTokens.set(kernel.cache.count)
        appliedIndex.set(Int64(applied))
        blockingWaiters.set(kernel.cache.blockingQueryCount)
        if let index = try? await kernel.storage.read({ $0.index }) {
            storeIndex.set(Int64(index))
            changeFeedLag.set(Int64(index > applied ? index - applied : 0))
            storeReachable.set((kernel.storage as? any ReachabilityReporting)?.isReachable == false ? 0 : 1)
        } else {
            storeReachable.set(0)
        }
        for hook in refreshHooks.withLock({ $0 }) { hook(self) }
    }

    private func counter(in table: borrowing Mutex<[String: Counter]>, label: String, dimension: (String, String)) -> Counter {
        table.withLock { counters in
            if let counter = counters[dimension.1] { return counter }
            let counter = Counter(label: label, dimensions: [dimension], factory: factory)
            counters[dimension.1] = counter
            return counter
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
