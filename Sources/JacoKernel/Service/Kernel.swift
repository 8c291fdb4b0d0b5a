import Foundation
import Synchronization

/// The running kernel: a store, a hasher, the verification cache kept current from the store's
/// change feed, and the services built on them. Transports and the CLI talk to this.
public final class Kernel: Sendable {
    /// The storage engine.
    public let storage: any Storage
    /// The secret hasher.
    public let hasher: any SecretHasher
    /// Token operations.
    public let tokens: TokenService
    /// The audit log.
    public let audit: AuditLog
    /// The in-memory verification cache.
    public let cache: VerificationCache
    /// Manifest admission and deployments.
    public let deployments: DeploymentService
    /// Consul's ACL model: tokens with links and expiry, policies, roles.
    public let acl: ACLService
    /// Auth methods, binding rules, login and logout.
    public let login: LoginService
    /// The kernel's metrics (verifications, writes, commit latency, cache and feed gauges).
    public let metrics: KernelMetrics

    private let background = Mutex<[Task<Void, Never>]>([])
    private let throttles = Mutex<[AuthThrottle]>([])

    /// Starts a kernel on `storage`: loads the verification cache, then follows the change feed.
    public static func start(
        storage: any Storage, hasher: any SecretHasher, admission: AdmissionChain = AdmissionChain([]),
        acl settings: ACLSettings = ACLSettings(), tokens tokenSettings: TokenSettings = TokenSettings(), metrics: KernelMetrics = .discarded,
        authMethodTypes: [any AuthMethodType] = [], clock: @escaping @Sendable () -> Date = { Date.nowMilliseconds() }
    ) async throws -> Kernel {
        let kernel = Kernel(
            storage: storage, hasher: hasher, admission: admission, settings: settings, tokenSettings: tokenSettings, metrics: metrics,
            authMethodTypes: authMethodTypes, clock: clock)
        try await kernel.reloadCache()
        kernel.background.withLock {
            $0 = [
                Task { await kernel.followChanges() }, Task { await kernel.reapExpiredTokens() },
                Task { await kernel.tickUseClock() }, Task { await kernel.flushLastUsedPeriodically() },
                Task { await kernel.auditAuthFailuresPeriodically() },
            ]
        }
        return kernel
    }

    private init(
        storage: any Storage, hasher: any SecretHasher, admission: AdmissionChain, settings: ACLSettings, tokenSettings: TokenSettings,
        metrics: KernelMetrics, authMethodTypes: [any AuthMethodType], clock: @escaping @Sendable () -> Date
    ) {
        let cache = VerificationCache(hasher: hasher)
        let pipeline = WritePipeline(storage: storage, hasher: hasher, cache: cache, metrics: metrics, clock: clock)
        self.storage = storage
        self.metrics = metrics
        self.hasher = hasher
        self.cache = cache
        self.tokens = TokenService(storage: storage, hasher: hasher, cache: cache, pipeline: pipeline, metrics: metrics, settings: tokenSettings, clock: clock)
        self.audit = AuditLog(storage: storage, hasher: hasher)
        self.deployments = DeploymentService(storage: storage, pipeline: pipeline, admission: admission)
        self.acl = ACLService(storage: storage, hasher: hasher, cache: cache, pipeline: pipeline, settings: settings, clock: clock)
        self.login = LoginService(acl: acl, types: authMethodTypes, maxTokensPerMethod: tokenSettings.maxLoginTokensPerMethod)
    }

    /// Stops following the change feed and the reaper, and closes the store.
    public func shutdown() async throws {
        let tasks = background.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        // Last-used times seen since the last flush are kept across a clean restart.
        _ = try? await tokens.flushLastUsed()
        try await storage.close()
    }

    /// Advances the verify path's clock once a second.
    private func tickUseClock() async {
        while !Task.isCancelled {
            UseClock.tick()
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Writes last-used times every `[tokens] last_used_flush` until cancelled.
    private func flushLastUsedPeriodically() async {
        await repeatUntilCancelled(every: tokens.settings.lastUsedFlush) { try await self.tokens.flushLastUsed() }
    }

    /// A throttle of failed authentications for `listener` (a transport makes one per TCP
    /// listener); the kernel writes its tallies to the audit log every `[tokens]
    /// failed_auth_audit`.
    public func authThrottle(listener: String, limits: AuthThrottle.Limits) -> AuthThrottle {
        let throttle = AuthThrottle(listener: listener, limits: limits)
        throttles.withLock { $0.append(throttle) }
        return throttle
    }

    /// Writes one `auth_failures` event for each listener that saw failed authentications or
    /// refused calls since the last time.
    public func auditAuthFailures() async throws {
        for throttle in throttles.withLock({ $0 }) {
            guard let tally = throttle.takeTally() else { continue }
            try await tokens.recordAuthFailures(tally, listener: throttle.listener, period: tokens.settings.failedAuthAudit)
        }
    }

    /// Audits failed authentications every `[tokens] failed_auth_audit` until cancelled.
    private func auditAuthFailuresPeriodically() async {
        await repeatUntilCancelled(every: tokens.settings.failedAuthAudit) { try await self.auditAuthFailures() }
    }

    /// Deletes expired tokens and ends rotations whose grace is over, every `reapInterval`,
    /// until cancelled. Neither verifies whether or not this has run; it keeps listings, the
    /// store and the audit trail current.
    private func reapExpiredTokens() async {
        await repeatUntilCancelled(every: acl.settings.reapInterval) {
            try await self.tokens.finishRotations()
            try await self.acl.reapExpiredTokens()
        }
    }

    /// Runs `work` after each `interval` until the task is cancelled or the store closes; any
    /// other failure (e.g. the store briefly unavailable) waits for the next round.
    private func repeatUntilCancelled(every interval: Duration, _ work: () async throws -> Void) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
                try await work()
            } catch is CancellationError {
                return
            } catch let error as JacoError where error.code == .closed {
                return
            } catch {
                continue
            }
        }
    }

    /// A snapshot handed to the task that reads the next page. Invariant behind `@unchecked
    /// Sendable`: one task at a time uses it (a page is fetched only after the one before it
    /// was), all inside the `read` that opened it.
    private struct SnapshotHandle: @unchecked Sendable {
        let snapshot: any StorageSnapshot
    }

    /// Loads the verification cache from one snapshot, tokens a page at a time.
    private func reloadCache() async throws {
        let (loader, index) = try await storage.read { snapshot in
            let policies = try await snapshot.scan(prefix: KeySpace.policyPrefix).map {
                try Policy(decoding: $0.value.bytes, key: $0.key)
            }
            let roles = try await snapshot.scan(prefix: KeySpace.rolePrefix).map {
                try Role(decoding: $0.value.bytes, key: $0.key)
            }
            var loader = VerificationCache.Loader(policies: policies, roles: roles)
            // Sized before the load where the engine can count: growing tables rehash every key.
            if let count = try await snapshot.count(prefix: KeySpace.tokenPrefix) { loader.expect(tokens: count) }
            try await Self.loadTokens(from: snapshot, into: &loader)
            var after: String? = nil
            repeat {
                let page = try await snapshot.scan(prefix: KeySpace.lastUsedPrefix, startingAfter: after, limit: 10_000)
                loader.addLastUsed(page.compactMap { entry in
                    LastUsedCodec.decode(entry.value.bytes).map { (String(entry.key.dropFirst(KeySpace.lastUsedPrefix.count)), $0) }
                })
                after = page.count == 10_000 ? page.last?.key : nil
            } while after != nil
            return (loader, snapshot.index)
        }
        cache.install(loader, at: index)
        releaseFreedMemory()
    }

    /// Reads and decodes token pages one ahead of the cache's inserts: the store read and the
    /// decode of page N + 1 run on another core while page N goes into the tables. (Making the
    /// cache entries there too was slower: glibc's malloc then frees across threads.) Only the
    /// fields the cache keeps are decoded, and a page's equal policy lists are one array.
    private static func loadTokens(from snapshot: any StorageSnapshot, into loader: inout VerificationCache.Loader) async throws {
        let source = SnapshotHandle(snapshot: snapshot)
        let pageSize = 10_000
        func fetch(after: String?) -> Task<(tokens: [CachedToken], last: String?), any Error> {
            Task {
                let page = try await source.snapshot.scan(prefix: KeySpace.tokenPrefix, startingAfter: after, limit: pageSize)
                var policies = StringListMemo(), roles = StringListMemo()
                let tokens = try page.map { try CachedToken(decoding: $0.value.bytes, key: $0.key, policies: &policies, roles: &roles) }
                return (tokens, page.count == pageSize ? page.last?.key : nil)
            }
        }
        var pending: Task<(tokens: [CachedToken], last: String?), any Error>? = fetch(after: nil)
        while let current = pending {
            let (tokens, last) = try await current.value
            pending = last.map(fetch(after:))
            loader.add(tokens)
        }
    }

    /// Applies the change feed to the cache until cancelled; resumes after errors, and reloads
    /// from a snapshot when the feed can no longer resume (compacted).
    private func followChanges() async {
        while !Task.isCancelled {
            do {
                for try await change in storage.changes(after: cache.appliedIndex) {
                    let revocations = cache.apply(change)
                    if !revocations.isEmpty {
                        let now = Date()
                        for revokedAt in revocations { metrics.recordPropagation(revokedAt: revokedAt, seenAt: now) }
                    }
                }
                return  // the store closed the feed
            } catch let error as JacoError where error.code == .compacted {
                try? await reloadCache()
            } catch let error as JacoError where error.code == .closed {
                return
            } catch {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

/// Hands the memory freed after a load (the decoded pages, the old tables) back to the system:
/// glibc keeps freed heap in its per-thread arenas, where it would count as the daemon's memory.
private func releaseFreedMemory() {
    #if os(Linux)
    _ = glibcMallocTrim(0)
    #endif
}

#if os(Linux)
/// glibc's `malloc_trim` (declared in `<malloc.h>`, which the Glibc module does not import).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
