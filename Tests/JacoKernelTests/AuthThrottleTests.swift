import Foundation
import JacoKernel
import Synchronization
import Testing

/// The failed-authentication throttle's buckets on a hand-moved clock.
@Suite("Failed-authentication throttle")
struct AuthThrottleTests {
    /// A clock the test moves.
    final class ManualClock: Sendable {
        private let instant = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
    }

    static let good = "good-secret"
    static let principal = Principal(accessorID: "a", identity: "ci", policyIDs: [], allowsPrivileged: false, acl: .read)

    /// A verify that knows one secret; any other is `token_invalid`.
    static func verify(_ secret: String) throws(JacoError) -> Principal {
        guard secret == good else { throw JacoError(.tokenInvalid, "no token has this secret") }
        return principal
    }

    static func attempt(_ throttle: AuthThrottle, _ secret: String, from address: String?) -> JacoError.Code? {
        do {
            _ = try throttle.verify(secret: secret, from: address, using: verify)
            return nil
        } catch {
            return error.code
        }
    }

    static func limits(address: Int, perSecond: Double = 1, listener: Int = 1000, listenerPerSecond: Double = 100) -> AuthThrottle.Limits {
        var limits = AuthThrottle.Limits()
        limits.addressBurst = address
        limits.addressPerSecond = perSecond
        limits.listenerBurst = listener
        limits.listenerPerSecond = listenerPerSecond
        return limits
    }

    @Test("An address may fail its burst, then is refused before verifying, with the wait; it regains one try per 1/rate; other addresses are not slowed")
    func perAddress() throws {
        let clock = ManualClock()
        let throttle = AuthThrottle(listener: "test", limits: Self.limits(address: 3, perSecond: 0.5)) { clock.now }
        for _ in 0..<3 { #expect(Self.attempt(throttle, "guess", from: "10.0.0.9") == .tokenInvalid) }
        // Throttled: refused whatever the secret, even the right one (it is not looked at).
        do {
            _ = try throttle.verify(secret: "guess", from: "10.0.0.9", using: Self.verify)
            Issue.record("a throttled address was verified")
        } catch {
            #expect(error.code == .rateLimited)
            #expect(error.retryAfter == .seconds(2), "one try comes back after 1/0.5 s")
            #expect(error.message == "too many failed authentications from 10.0.0.9; try again in 2s")
        }
        #expect(Self.attempt(throttle, Self.good, from: "10.0.0.9") == .rateLimited)
        // Another address, valid or not, is not affected.
        #expect(Self.attempt(throttle, Self.good, from: "10.0.0.10") == nil)
        #expect(Self.attempt(throttle, "guess", from: "10.0.0.10") == .tokenInvalid)
        // Two seconds give one try back, which fails again and empties the bucket.
        clock.advance(.seconds(2))
        #expect(Self.attempt(throttle, "guess", from: "10.0.0.9") == .tokenInvalid)
        #expect(Self.attempt(throttle, "guess", from: "10.0.0.9") == .rateLimited)
        // A full refill forgets the address: its valid caller gets through.
        clock.advance(.seconds(6))
        #expect(Self.attempt(throttle, Self.good, from: "10.0.0.9") == nil)
    }

    @Test("Other errors (revoked, expired, no caller address) are not failures; a burst of 0 turns throttling off")
    func whatCounts() throws {
        let throttle = AuthThrottle(listener: "test", limits: Self.limits(address: 1))
        for _ in 0..<5 {
            do {
                _ = try throttle.verify(secret: "old", from: "10.0.0.1") { _ throws(JacoError) -> Principal in throw JacoError(.tokenRevoked, "revoked") }
            } catch { #expect(error.code == .tokenRevoked) }
        }
        for _ in 0..<5 { #expect(Self.attempt(throttle, "guess", from: nil) == .tokenInvalid, "the unix socket is exempt") }
        #expect(throttle.takeTally() == nil)
        let off = AuthThrottle(listener: "test", limits: Self.limits(address: 0))
        for _ in 0..<50 { #expect(Self.attempt(off, "guess", from: "10.0.0.1") == .tokenInvalid) }
        #expect(off.takeTally() == nil)
    }

    @Test("Past the listener's burst, every address that failed recently is refused; one that never failed still gets through")
    func perListener() throws {
        let clock = ManualClock()
        let throttle = AuthThrottle(listener: "test", limits: Self.limits(address: 100, listener: 4, listenerPerSecond: 1)) { clock.now }
        for n in 1...4 { #expect(Self.attempt(throttle, "guess", from: "10.0.1.\(n)") == .tokenInvalid) }
        #expect(Self.attempt(throttle, "guess", from: "10.0.1.1") == .rateLimited)
        #expect(Self.attempt(throttle, Self.good, from: "10.0.1.2") == .rateLimited)
        #expect(Self.attempt(throttle, Self.good, from: "10.0.2.1") == nil, "a caller that never failed is not slowed")
        clock.advance(.seconds(1))
        #expect(Self.attempt(throttle, Self.good, from: "10.0.1.2") == nil)
    }

    @Test("The tally counts failures and refusals per address, most first, then resets; it never holds a secret")
    func tally() throws {
        let throttle = AuthThrottle(listener: "grpc+tls://127.0.0.1:7400", limits: Self.limits(address: 2))
        for _ in 0..<5 { _ = Self.attempt(throttle, "jaco_secretguess", from: "10.0.0.1") }
        _ = Self.attempt(throttle, "jaco_secretguess", from: "10.0.0.2")
        _ = Self.attempt(throttle, Self.good, from: "10.0.0.3")
        let tally = try #require(throttle.takeTally())
        #expect(tally.failures == 3 && tally.refused == 3 && tally.addresses == 2)
        #expect(tally.sources.map(\.address) == ["10.0.0.1", "10.0.0.2"])
        #expect(tally.sources.first?.failures == 2 && tally.sources.first?.refused == 3)
        #expect(throttle.takeTally() == nil, "taken: reset")
    }

    @Test("While no address has failed, a verify does not read the caller's address; a failure reads it once")
    func addressReadLazily() throws {
        final class Reads: @unchecked Sendable { var count = 0 }
        let reads = Reads()
        func address() -> String? {
            reads.count += 1
            return "10.0.0.5"
        }
        let throttle = AuthThrottle(listener: "test", limits: Self.limits(address: 3))
        for _ in 0..<10 { _ = try throttle.verify(secret: Self.good, from: address(), using: Self.verify) }
        #expect(reads.count == 0)
        _ = try? throttle.verify(secret: "guess", from: address(), using: Self.verify)
        #expect(reads.count == 1)
        // Now one address is suspect: every verify looks the caller up.
        _ = try throttle.verify(secret: Self.good, from: address(), using: Self.verify)
        #expect(reads.count == 2)
    }

    @Test("Config keys: defaults, values, and errors naming the key")
    func config() throws {
        #expect(try AuthThrottle.Limits(ConfigSection(name: "listeners", values: [:], source: "test.toml")) == AuthThrottle.Limits())
        let set = try AuthThrottle.Limits(ConfigSection(name: "listeners", values: [
            "failed_auth_burst": .integer(5), "failed_auth_per_second": .double(0.2), "listener_failed_auth_burst": .integer(50),
        ], source: "test.toml"))
        #expect(set.addressBurst == 5 && set.addressPerSecond == 0.2 && set.listenerBurst == 50 && set.listenerPerSecond == 100)
        #expect(throws: JacoError.self) { try AuthThrottle.Limits(ConfigSection(name: "listeners", values: ["failed_auth_per_second": .string("fast")], source: "test.toml")) }
        do {
            _ = try AuthThrottle.Limits(ConfigSection(name: "listeners", values: ["failed_auth_burst": .integer(-1)], source: "test.toml"))
        } catch {
            #expect(error.message.contains("failed_auth_burst"), "\(error.message)")
        }
    }
}
