import Foundation
import JWTKit
import JacoKernel

/// The keys fetched for each auth method (from its JWKS, directly or through OIDC discovery),
/// kept per method version: refetched after an hour, when the method changes, and when a JWT
/// names a `kid` the set lacks (a key rotation). Fetches are attempted at most once a second
/// per method version, successful or not, and logins that need one at the same moment share
/// it, so a flood of made-up `kid`s (or a provider that is down) cannot turn into a flood of
/// fetches. A failed refetch keeps the last set.
actor KeySets {
    /// One method's keys.
    struct Entry: Sendable {
        var version: StoreIndex
        var keys: [JWK]
        /// OIDC discovery: the provider's issuer and signing algorithms.
        var issuer: String?
        var algorithms: [String]
        var fetchedAt: ContinuousClock.Instant
    }

    /// How long a fetched set is used before it is fetched again.
    static let maxAge: Duration = .seconds(3600)
    /// The least time between two fetch attempts for one method version.
    static let minRefetch: Duration = .seconds(1)

    private var entries: [String: Entry] = [:]
    /// By "method@version": when a fetch was last started, its failure if it failed, and the
    /// fetch under way.
    private var attempts: [String: ContinuousClock.Instant] = [:]
    private var failures: [String: JacoError] = [:]
    private var inFlight: [String: Task<Entry, any Error>] = [:]

    /// The keys of `method` (at `version`), fetched when missing, stale, or lacking `kid`.
    func keys(method: String, version: StoreIndex, config: JWTMethodConfig, kid: String?) async throws(JacoError) -> Entry {
        let slot = "\(method)@\(version)"
        let now = ContinuousClock.now
        let kept = entries[method].flatMap { $0.version == version ? $0 : nil }
        let triedLately = attempts[slot].map { now - $0 < Self.minRefetch } ?? false
        if let kept, now - kept.fetchedAt < Self.maxAge {
            let knowsKid = kid.map { kid in kept.keys.contains { $0.keyIdentifier?.string == kid } } ?? true
            if knowsKid || triedLately { return kept }
        } else if kept == nil, triedLately, inFlight[slot] == nil, let failure = failures[slot] {
            throw failure
        }
        let task: Task<Entry, any Error>
        if let running = inFlight[slot] {
            task = running
        } else {
            attempts[slot] = now
            task = Task { try await Self.fetch(config, version: version) }
            inFlight[slot] = task
        }
        let result = await task.result
        if inFlight[slot] == task { inFlight[slot] = nil }
        switch result {
        case .success(let fresh):
            // Keep the newest set (another login may have stored a later one meanwhile).
            if let current = entries[method], current.version == version, current.fetchedAt > fresh.fetchedAt {} else { entries[method] = fresh }
            failures[slot] = nil
            return fresh
        case .failure(let error):
            let failure = error as? JacoError ?? JacoError(.unavailable, "fetching the auth method's keys failed: \(error)")
            failures[slot] = failure
            if let kept { return kept }
            throw failure
        }
    }

    /// Fetches the method's keys now.
    static func fetch(_ config: JWTMethodConfig, version: StoreIndex) async throws(JacoError) -> Entry {
        if !config.discoveryURL.isEmpty {
            let discovery = try await KeyFetcher.discover(config.discoveryURL, caPEM: config.discoveryCACert)
            let keys = try KeyFetcher.keys(fromJWKS: try await KeyFetcher.fetch(discovery.jwksURI, caPEM: config.discoveryCACert), url: discovery.jwksURI)
            return Entry(version: version, keys: keys, issuer: discovery.issuer, algorithms: discovery.algorithms, fetchedAt: .now)
        }
        let keys = try KeyFetcher.keys(fromJWKS: try await KeyFetcher.fetch(config.jwksURL, caPEM: config.jwksCACert), url: config.jwksURL)
        return Entry(version: version, keys: keys, issuer: nil, algorithms: [], fetchedAt: .now)
    }
}
