import Foundation
import JWTKit
import JacoKernel

/// The keys fetched for each auth method (from its JWKS, directly or through OIDC discovery),
/// kept per method version: refetched after an hour, when the method changes, and when a JWT
/// names a `kid` the set lacks (a key rotation) — at most once a second per method, so a flood
/// of made-up `kid`s cannot turn into a flood of fetches. A failed refetch keeps the last set.
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
    /// The least time between two fetches for one method when a `kid` is unknown.
    static let minRefetch: Duration = .seconds(1)

    private var entries: [String: Entry] = [:]

    /// The keys of `method` (at `version`), fetched when missing, stale, or lacking `kid`.
    func keys(method: String, version: StoreIndex, config: JWTMethodConfig, kid: String?) async throws(JacoError) -> Entry {
        let now = ContinuousClock.now
        let kept = entries[method].flatMap { $0.version == version ? $0 : nil }
        if let kept, now - kept.fetchedAt < Self.maxAge {
            let knowsKid = kid.map { kid in kept.keys.contains { $0.keyIdentifier?.string == kid } } ?? true
            if knowsKid || now - kept.fetchedAt < Self.minRefetch { return kept }
        }
        do {
            let fresh = try await Self.fetch(config, version: version)
            entries[method] = fresh
            return fresh
        } catch {
            if let kept { return kept }
            throw error
        }
    }

    /// Forgets every set (tests).
    func clear() { entries = [:] }

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
