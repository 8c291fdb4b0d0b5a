import Foundation
import JacoKernel

/// The checks a verified JWT's claims must pass, as Consul's go-sso makes them
/// (internal/go-sso/oidcauth/jwt.go): times with leeways, issuer, audience. Each failure names
/// the check, so whoever set up the method can tell which setting or token is wrong.
struct ClaimChecks {
    let config: JWTMethodConfig
    /// OIDC discovery: the provider's issuer the `iss` must equal, and audiences are checked
    /// only when bound (go-oidc's non-strict mode).
    var providerIssuer: String?

    /// Consul's default leeways (seconds) for a missing `exp`/`nbf`, and for clock skew.
    static let defaultClaimLeeway: TimeInterval = 150, defaultClockSkew: TimeInterval = 60

    func check(_ claims: [String: Any], now: Date) throws(JacoError) {
        var iat = try Self.numericDate(claims, "iat"), exp = try Self.numericDate(claims, "exp"), nbf = try Self.numericDate(claims, "nbf")
        if providerIssuer != nil && exp == 0 { throw denied("the JWT has no expiration time (exp), which an OIDC ID token must have") }
        if iat == 0 && exp == 0 && nbf == 0 { throw denied("no issue time, notbefore, or expiration time encoded in token") }
        if exp == 0 { exp = max(iat, nbf) + Self.leeway(config.expirationLeeway, default: Self.defaultClaimLeeway) }
        if nbf == 0 { nbf = iat != 0 ? iat : exp - Self.leeway(config.notBeforeLeeway, default: Self.defaultClaimLeeway) }
        if iat == 0 { iat = nbf }
        let skew = Self.leeway(config.clockSkewLeeway, default: Self.defaultClockSkew)
        let t = now.timeIntervalSince1970
        if t + skew < nbf { throw denied("the JWT is not valid yet (nbf \(Self.time(nbf)), now \(Self.time(t)), leeway \(Int(skew))s)") }
        if t - skew > exp { throw denied("the JWT has expired (exp \(Self.time(exp)), now \(Self.time(t)), leeway \(Int(skew))s)") }
        if t + skew < iat { throw denied("the JWT was issued in the future (iat \(Self.time(iat)), now \(Self.time(t)), leeway \(Int(skew))s)") }
        let issuer = claims["iss"] as? String ?? ""
        if let providerIssuer, issuer != providerIssuer {
            throw denied("the JWT's issuer \(issuer.quotedKey) is not the OIDC provider's \(providerIssuer.quotedKey)")
        }
        if !config.boundIssuer.isEmpty && issuer != config.boundIssuer {
            throw denied("the JWT's issuer \(issuer.quotedKey) does not match the auth method's BoundIssuer \(config.boundIssuer.quotedKey)")
        }
        let audiences: [String] = (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [Any])?.compactMap { $0 as? String } ?? []
        if config.boundAudiences.isEmpty {
            if providerIssuer == nil && !audiences.isEmpty {
                throw denied("the JWT has an audience (\(audiences.map(\.quotedKey).joined(separator: ", "))) but the auth method binds none: set BoundAudiences")
            }
        } else if !audiences.contains(where: config.boundAudiences.contains) {
            throw denied("the JWT's audience [\(audiences.map(\.quotedKey).joined(separator: ", "))] includes none of the auth method's BoundAudiences [\(config.boundAudiences.map(\.quotedKey).joined(separator: ", "))]")
        }
    }

    /// The fields of a login: the mapped claims, over the method's blank identity.
    func identity(from claims: [String: Any]) throws(JacoError) -> VerifiedIdentity {
        var identity = config.blankIdentity
        for (claim, field) in config.claimMappings {
            guard let value = Self.claim(claim, in: claims) else { continue }
            guard let text = Self.scalarText(value) else {
                throw denied("claim \(claim.quotedKey) (ClaimMappings) is not a string, number or boolean")
            }
            identity.values[field] = text
        }
        for (claim, field) in config.listClaimMappings {
            guard let value = Self.claim(claim, in: claims) else { continue }
            let items: [Any] = (value as? [Any]) ?? [value]
            var texts: [String] = []
            for item in items {
                guard let text = Self.scalarText(item) else {
                    throw denied("claim \(claim.quotedKey) (ListClaimMappings) holds an item that is not a string, number or boolean")
                }
                texts.append(text)
            }
            identity.lists[field] = texts
        }
        return identity
    }

    private func denied(_ why: String) -> JacoError { JacoError(.permissionDenied, "login refused: \(why)") }

    /// A claim by name, or by JSON pointer when it starts with `/` (`/a/b`, `~1` for `/`).
    static func claim(_ path: String, in claims: [String: Any]) -> Any? {
        guard path.hasPrefix("/") else { return claims[path] }
        var current: Any = claims
        for part in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let object = current as? [String: Any], let next = object[key] {
                current = next
            } else if let array = current as? [Any], let i = Int(key), array.indices.contains(i) {
                current = array[i]
            } else {
                return nil
            }
        }
        return current
    }

    /// A string, number or boolean as text (numbers as Go prints them: `3`, `2.5`).
    static func scalarText(_ value: Any) -> String? {
        if let text = value as? String { return text }
        if let number = value as? NSNumber {
            // JSONSerialization hands booleans out as NSNumbers of ObjC type `c`.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            let double = number.doubleValue
            if double == double.rounded() && abs(double) < 1e15 { return String(Int64(double)) }
            return String(double)
        }
        return nil
    }

    private static func numericDate(_ claims: [String: Any], _ name: String) throws(JacoError) -> TimeInterval {
        guard let value = claims[name], !(value is NSNull) else { return 0 }
        guard let number = value as? NSNumber, !(value is String) else {
            throw JacoError(.permissionDenied, "login refused: the JWT's \(name) claim is not a number of seconds")
        }
        // Seconds since 1970 within ±1e11 (some 3,000 years): anything past that is a broken token.
        guard number.doubleValue.isFinite, abs(number.doubleValue) < 1e11 else {
            throw JacoError(.permissionDenied, "login refused: the JWT's \(name) claim (\(number)) is not a plausible time")
        }
        return number.doubleValue
    }

    /// Consul's leeway rule: 0 is the default, negative is none.
    private static func leeway(_ configured: TimeInterval, default value: TimeInterval) -> TimeInterval {
        configured < 0 ? 0 : configured == 0 ? value : configured
    }

    private static func time(_ seconds: TimeInterval) -> String { Date(timeIntervalSince1970: seconds).rfc3339 }
}
