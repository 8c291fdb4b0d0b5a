import AsyncHTTPClient
import Foundation
import JWTKit
import JacoKernel
import NIOCore
import NIOHTTP1
import NIOSSL

/// Fetches JWKS and OIDC discovery documents over HTTPS only, trusting the method's CA (PEM)
/// when it names one and the system's otherwise; no redirects, bounded size and time.
enum KeyFetcher {
    /// The largest document read.
    static let maxBytes = 1 << 20
    /// How long one fetch may take.
    static let timeout: TimeAmount = .seconds(10)

    /// What is wrong with `pem` as a CA bundle, or nil.
    static func problem(withCA pem: String) -> String? {
        do {
            let certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
            return certificates.isEmpty ? "no certificate in the PEM" : nil
        } catch {
            return "not a PEM certificate (\(error))"
        }
    }

    /// The body of `url` (HTTPS, status 200), or an error naming the URL and what failed.
    static func fetch(_ url: String, caPEM: String) async throws(JacoError) -> Data {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if !caPEM.isEmpty {
            guard let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)), !certificates.isEmpty else {
                throw JacoError(.validationFailed, "the CA certificate for \(url.quotedKey) is not PEM")
            }
            tls.trustRoots = .certificates(certificates)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5), read: timeout)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let body = try await get(url, with: client)
            try? await client.shutdown()
            return body
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private static func get(_ url: String, with client: HTTPClient) async throws(JacoError) -> Data {
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await client.execute(request, timeout: timeout)
            guard response.status == .ok else {
                throw JacoError(.unavailable, "GET \(url.quotedKey) answered \(response.status.code) \(response.status.reasonPhrase)")
            }
            let body = try await response.body.collect(upTo: maxBytes)
            return Data(body.readableBytesView)
        } catch let error as JacoError {
            throw error
        } catch {
            throw JacoError(.unavailable, "GET \(url.quotedKey) failed: \(error)")
        }
    }

    /// The keys of a JWKS document.
    static func keys(fromJWKS data: Data, url: String) throws(JacoError) -> [JWK] {
        do {
            let jwks = try JSONDecoder().decode(JWKS.self, from: data)
            guard !jwks.keys.isEmpty else { throw JacoError(.unavailable, "the JWKS at \(url.quotedKey) holds no keys") }
            return jwks.keys
        } catch let error as JacoError {
            throw error
        } catch {
            throw JacoError(.unavailable, "the document at \(url.quotedKey) is not a JWKS: \(error)")
        }
    }

    /// An OIDC provider's discovery document: its issuer, JWKS URL and signing algorithms.
    struct Discovery: Sendable {
        var issuer: String
        var jwksURI: String
        var algorithms: [String]
    }

    /// Reads `<issuer>/.well-known/openid-configuration`; its `issuer` must be `issuer` itself.
    static func discover(_ issuer: String, caPEM: String) async throws(JacoError) -> Discovery {
        let url = (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
        let data = try await fetch(url, caPEM: caPEM)
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw JacoError(.unavailable, "the discovery document at \(url.quotedKey) is not a JSON object")
        }
        guard let found = document["issuer"] as? String, found == issuer else {
            throw JacoError(.unavailable, "the discovery document at \(url.quotedKey) names issuer \(((document["issuer"] as? String) ?? "").quotedKey), not \(issuer.quotedKey)")
        }
        guard let jwksURI = document["jwks_uri"] as? String else { throw JacoError(.unavailable, "the discovery document at \(url.quotedKey) has no jwks_uri") }
        try JWTMethodConfig.requireHTTPS(jwksURI, key: "the discovery document's jwks_uri")
        return Discovery(issuer: found, jwksURI: jwksURI, algorithms: document["id_token_signing_alg_values_supported"] as? [String] ?? [])
    }
}
