/// What an auth method verified about a login, in the shape binding rules read: selectors see
/// `value.<field>` and `list.<field>`, bind names interpolate `${value.<field>}`.
public struct VerifiedIdentity: Sendable, Equatable {
    /// Single-valued fields (Consul's `ClaimMappings` targets).
    public var values: [String: String]
    /// List fields (Consul's `ListClaimMappings` targets).
    public var lists: [String: [String]]

    /// Creates an identity.
    public init(values: [String: String] = [:], lists: [String: [String]] = [:]) {
        self.values = values
        self.lists = lists
    }
}

/// One auth-method type (e.g. `jwt`): checks a method's `Config` and verifies logins against it.
/// A plugin supplies it; the kernel stores methods, applies binding rules and mints the tokens.
public protocol AuthMethodType: Sendable {
    /// The name a method's `Type` gives, e.g. `jwt`.
    var name: String { get }
    /// Checks `method.config`, throwing `validation_failed` that names the bad key. May reach
    /// the network (a JWKS or discovery URL must answer).
    func validate(_ method: AuthMethod) async throws
    /// The fields every identity of `method` has, empty: what its binding rules may select and
    /// interpolate.
    func blankIdentity(for method: AuthMethod) throws -> VerifiedIdentity
    /// Verifies `credential` for `method` (stored at `modifyIndex`, so derived state such as
    /// fetched keys can be kept per version). Throws `permission_denied` naming the check that
    /// failed; never echoes the credential.
    func verify(_ credential: String, for method: AuthMethod, modifyIndex: StoreIndex) async throws -> VerifiedIdentity
}
