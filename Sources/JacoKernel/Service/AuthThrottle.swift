import Foundation
import Synchronization

/// Failed authentications on one listener — a secret no token has, or a malformed one — limited
/// with token buckets, per source address and for the listener as a whole:
/// - one address may fail `addressBurst` times at once, then `addressPerSecond` times a second;
///   past that, its calls are refused before their secret is looked at (`rate_limited`, with
///   the time until it may try again);
/// - the listener takes `listenerBurst` failures at once, then `listenerPerSecond` a second;
///   past that, calls from every address that failed recently are refused the same way.
///
/// An address that has not failed (or whose bucket has refilled) is never refused, so valid
/// callers are not slowed by an attack from elsewhere. Failures and refusals are tallied for
/// one aggregate audit event per period (``takeTally()``); secrets are never kept.
public final class AuthThrottle: Sendable {
    /// The buckets' sizes and refill rates (`[[listeners]]` keys).
    public struct Limits: Sendable, Equatable {
        /// Failures one address may make at once; 0 turns throttling off for the listener.
        public var addressBurst = 20
        /// Failures one address regains per second.
        public var addressPerSecond = 1.0
        /// Failures the listener takes at once, from all addresses together.
        public var listenerBurst = 1000
        /// Failures the listener regains per second.
        public var listenerPerSecond = 100.0

        /// The keys a listener entry takes for them.
        public static let keys = ["failed_auth_burst", "failed_auth_per_second", "listener_failed_auth_burst", "listener_failed_auth_per_second"]

        /// The defaults: 20 at once then 1/s per address; 1000 at once then 100/s per listener.
        public init() {}

        /// Reads the keys from a listener entry; defaults where absent.
        public init(_ section: ConfigSection) throws(JacoError) {
            addressBurst = try section.integer("failed_auth_burst", default: addressBurst, range: 0...1_000_000)
            addressPerSecond = try Self.rate(section, "failed_auth_per_second", default: addressPerSecond)
            listenerBurst = try section.integer("listener_failed_auth_burst", default: listenerBurst, range: 1...10_000_000)
            listenerPerSecond = try Self.rate(section, "listener_failed_auth_per_second", default: listenerPerSecond)
        }

        /// Whether failures are throttled at all.
        public var enabled: Bool { addressBurst > 0 }

        /// A number of failures per second: a TOML float or integer.
        private static func rate(_ section: ConfigSection, _ key: String, default fallback: Double) throws(JacoError) -> Double {
            let value: Double
            switch section.values[key] {
            case nil: return fallback
            case .double(let number)?: value = number
            case .integer(let number)?: value = Double(number)
            case let other?:
                throw section.error("'\(key)' is \(other.typeName); write failures per second as a number from 0.001 to 1000000, e.g. \(fallback)")
            }
            guard value.isFinite, (0.001...1_000_000).contains(value) else {
                throw section.error("'\(key)' is \(value); write failures per second from 0.001 to 1000000, e.g. \(fallback)")
            }
            return value
        }
    }

    /// What happened on the listener since the last tally.
    public struct Tally: Sendable, Equatable {
        /// Failed authentications.
        public var failures = 0
        /// Calls refused because their address or the listener was throttled.
        public var refused = 0
        /// Distinct addresses that failed or were refused.
        public var addresses = 0
        /// The addresses with the most failures and refusals, most first (at most ``topSources``).
        public var sources: [(address: String, failures: Int, refused: Int)] = []

        public static func == (a: Tally, b: Tally) -> Bool {
            a.failures == b.failures && a.refused == b.refused && a.addresses == b.addresses
                && a.sources.elementsEqual(b.sources) { $0.address == $1.address && $0.failures == $1.failures && $0.refused == $1.refused }
        }
    }

    /// Addresses named in a tally at most.
    public static let topSources = 10
    /// Addresses with a bucket at most; past it, the fullest (least suspect) are dropped.
    static let maxTrackedAddresses = 10_000

    /// The listener, as the audit event names it.
    public let listener: String
    /// The limits.
    public let limits: Limits
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<State>
    /// How many addresses have a bucket (failed recently): while none has, a verify takes no
    /// lock and builds no address string.
    private let suspects = Atomic<Int>(0)

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant

        mutating func refill(at time: ContinuousClock.Instant, perSecond: Double, burst: Int) {
            let elapsed = time - updated
            tokens = min(Double(burst), tokens + max(0, elapsed.seconds) * perSecond)
            updated = time
        }

        /// How long until one token is back.
        func wait(perSecond: Double) -> Duration {
            .milliseconds(Int64(((1 - tokens) / perSecond * 1000).rounded(.up)))
        }
    }

    private struct State {
        var addresses: [String: Bucket] = [:]
        var listener: Bucket
        var failures = 0
        var refused = 0
        var bySource: [String: (failures: Int, refused: Int)] = [:]
    }

    /// A throttle for `listener`; `now` is the clock (tests pass their own).
    public init(listener: String, limits: Limits, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.listener = listener
        self.limits = limits
        self.now = now
        state = Mutex(State(listener: Bucket(tokens: Double(limits.listenerBurst), updated: now())))
    }

    /// Verifies `secret` with `verify` unless the caller's address is throttled; counts a
    /// `token_invalid` failure against the address and the listener. `address` is evaluated
    /// only when an address has failed recently or this verify fails; nil (the unix socket) is
    /// exempt.
    public func verify(
        secret: String, from address: @autoclosure () -> String?, using verify: (String) throws(JacoError) -> Principal
    ) throws(JacoError) -> Principal {
        guard limits.enabled else { return try verify(secret) }
        if suspects.load(ordering: .relaxed) > 0, let address = address() { try refuseIfThrottled(address) }
        do {
            return try verify(secret)
        } catch {
            if error.code == .tokenInvalid, let address = address() { recordFailure(from: address) }
            throw error
        }
    }

    /// Runs a login (`/v1/acl/login`, `TokenService.Login`) unless the caller's address is
    /// throttled; a refused credential (`permission_denied`) counts as a failed authentication,
    /// as an unknown secret does. nil (the unix socket) is exempt.
    public func login<R>(from address: @autoclosure () -> String?, _ body: () async throws -> R) async throws -> R {
        guard limits.enabled else { return try await body() }
        if suspects.load(ordering: .relaxed) > 0, let address = address() { try refuseIfThrottled(address) }
        do {
            return try await body()
        } catch let error as JacoError where error.code == .permissionDenied {
            if let address = address() { recordFailure(from: address) }
            throw error
        }
    }

    /// Throws `rate_limited` with the wait when `address` may not try now.
    private func refuseIfThrottled(_ address: String) throws(JacoError) {
        guard let wait = refusal(for: address) else { return }
        let seconds = max(1, Int(wait.seconds.rounded(.up)))
        var error = JacoError(.rateLimited, "too many failed authentications from \(EchoedInput.quote(address)); try again in \(seconds)s")
        error.retryAfter = .seconds(seconds)
        throw error
    }

    /// The wait before `address` may try again, if it is throttled now.
    private func refusal(for address: String) -> Duration? {
        state.withLock { s in
            guard var bucket = s.addresses[address] else { return nil }
            let time = now()
            bucket.refill(at: time, perSecond: limits.addressPerSecond, burst: limits.addressBurst)
            if bucket.tokens >= Double(limits.addressBurst) {
                s.addresses[address] = nil  // refilled: no longer suspect
                suspects.store(s.addresses.count, ordering: .relaxed)
                return nil
            }
            s.addresses[address] = bucket
            var wait: Duration?
            if bucket.tokens < 1 {
                wait = bucket.wait(perSecond: limits.addressPerSecond)
            } else {
                s.listener.refill(at: time, perSecond: limits.listenerPerSecond, burst: limits.listenerBurst)
                if s.listener.tokens < 1 { wait = s.listener.wait(perSecond: limits.listenerPerSecond) }
            }
            if wait != nil {
                s.refused += 1
                s.bySource[address, default: (0, 0)].refused += 1
            }
            return wait
        }
    }

    private func recordFailure(from address: String) {
        state.withLock { s in
            let time = now()
            var bucket = s.addresses[address] ?? Bucket(tokens: Double(limits.addressBurst), updated: time)
            bucket.refill(at: time, perSecond: limits.addressPerSecond, burst: limits.addressBurst)
            bucket.tokens = max(0, bucket.tokens - 1)
            s.addresses[address] = bucket
            s.listener.refill(at: time, perSecond: limits.listenerPerSecond, burst: limits.listenerBurst)
            s.listener.tokens = max(0, s.listener.tokens - 1)
            s.failures += 1
            if s.bySource[address] != nil || s.bySource.count < Self.maxTrackedAddresses {
                s.bySource[address, default: (0, 0)].failures += 1
            }
            if s.addresses.count > Self.maxTrackedAddresses { prune(&s, at: time) }
            suspects.store(s.addresses.count, ordering: .relaxed)
        }
    }

    /// Drops refilled buckets, then the fullest ones, down to the cap.
    private func prune(_ s: inout State, at time: ContinuousClock.Instant) {
        for (address, var bucket) in s.addresses {
            bucket.refill(at: time, perSecond: limits.addressPerSecond, burst: limits.addressBurst)
            s.addresses[address] = bucket.tokens >= Double(limits.addressBurst) ? nil : bucket
        }
        let excess = s.addresses.count - Self.maxTrackedAddresses
        guard excess > 0 else { return }
        for (address, _) in s.addresses.sorted(by: { $0.value.tokens > $1.value.tokens }).prefix(excess) {
            s.addresses[address] = nil
        }
    }

    /// The failures and refusals since the last call, and resets them; nil when there were none.
    public func takeTally() -> Tally? {
        state.withLock { s in
            guard s.failures > 0 || s.refused > 0 else { return nil }
            let top = s.bySource.sorted { ($0.value.failures + $0.value.refused, $1.key) > ($1.value.failures + $1.value.refused, $0.key) }
                .prefix(Self.topSources).map { (address: $0.key, failures: $0.value.failures, refused: $0.value.refused) }
            let tally = Tally(failures: s.failures, refused: s.refused, addresses: s.bySource.count, sources: top)
            s.failures = 0
            s.refused = 0
            s.bySource = [:]
            return tally
        }
    }
}

extension AuthThrottle.Tally {
    /// The audit payload of `auth_failures` (no secret, ever).
    func auditPayload(listener: String, period: Duration) -> [String: String] {
        [
            "listener": listener, "failures": String(failures), "refused": String(refused), "addresses": String(addresses),
            "period": DurationText.format(period.seconds),
            "sources": sources.map { "\($0.address) failed \($0.failures), refused \($0.refused)" }.joined(separator: "; "),
        ]
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
