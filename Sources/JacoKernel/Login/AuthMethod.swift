import Foundation

/// A way to log in without a Jaco secret (Consul's ACL auth method): a workload presents a
/// credential it already holds (a JWT) and gets a token whose links the method's binding rules
/// choose from the credential's claims.
public struct AuthMethod: Sendable, Equatable {
    /// Unique name (letters, digits, `-`, `_`).
    public var name: String
    /// The type, e.g. `jwt`; it decides what `config` holds and how a login is verified.
    public var type: String
    /// A name for people; free text.
    public var displayName: String
    /// Free text.
    public var description: String
    /// How long a login token lives; 0 for as long as the token store allows (no expiry).
    public var maxTokenTTL: TimeInterval
    /// `local` (the default) or `global`: the `Local` flag of its login tokens.
    public var tokenLocality: String
    /// The type's settings as the text of one JSON object (Consul's `Config`), kept verbatim.
    public var config: String

    /// Creates an auth method.
    public init(
        name: String, type: String, displayName: String = "", description: String = "", maxTokenTTL: TimeInterval = 0,
        tokenLocality: String = "", config: String = "{}"
    ) {
        self.name = name
        self.type = type
        self.displayName = displayName
        self.description = description
        self.maxTokenTTL = maxTokenTTL
        self.tokenLocality = tokenLocality
        self.config = config
    }
}

/// What a binding rule links a login token to.
public enum BindType: String, Sendable, CaseIterable {
    /// A service identity named `BindName`.
    case service
    /// The role named `BindName`, if it exists at login.
    case role
    /// The policy named `BindName`, if it exists at login.
    case policy
}

/// A rule of an auth method: when its selector matches a login's claims, the login token gets
/// the link it names (Consul's ACL binding rule).
public struct BindingRule: Sendable, Equatable {
    /// Public, stable ID (a lowercase UUID).
    public var id: String
    /// Free text.
    public var description: String
    /// The auth method it belongs to.
    public var authMethod: String
    /// Which logins it applies to, in Consul's expression syntax; empty for all.
    public var selector: String
    /// What it links.
    public var bindType: BindType
    /// The name it links, with `${value.<field>}` taken from the login's claims.
    public var bindName: String

    /// Creates a binding rule.
    public init(id: String, description: String = "", authMethod: String, selector: String = "", bindType: BindType, bindName: String) {
        self.id = id
        self.description = description
        self.authMethod = authMethod
        self.selector = selector
        self.bindType = bindType
        self.bindName = bindName
    }
}

extension AuthMethod: StoredRecord {
    func encode() -> Data {
        var w = RecordWriter(version: 1)
        w.write(name)
        w.write(type)
        w.write(displayName)
        w.write(description)
        w.write(UInt64(max(0, maxTokenTTL * 1000).rounded()))
        w.write(tokenLocality)
        w.write(config)
        return w.data
    }

    package init(decoding data: Data, key: String) throws(JacoError) {
        var r = try RecordReader(data, key: key)
        self.init(
            name: try r.string(), type: try r.string(), displayName: try r.string(), description: try r.string(),
            maxTokenTTL: TimeInterval(try r.uint64()) / 1000, tokenLocality: try r.string(), config: try r.string())
    }
}

extension BindingRule: StoredRecord {
    func encode() -> Data {
        var w = RecordWriter(version: 1)
        w.write(id)
        w.write(description)
        w.write(authMethod)
        w.write(selector)
        w.write(bindType.rawValue)
        w.write(bindName)
        return w.data
    }

    package init(decoding data: Data, key: String) throws(JacoError) {
        var r = try RecordReader(data, key: key)
        let (id, description, authMethod, selector, type) = (try r.string(), try r.string(), try r.string(), try r.string(), try r.string())
        guard let bindType = BindType(rawValue: type) else {
            throw JacoError(.storageFailure, "the binding rule at '\(key)' has an unknown BindType '\(EchoedInput.quote(type))'")
        }
        self.init(id: id, description: description, authMethod: authMethod, selector: selector, bindType: bindType, bindName: try r.string())
    }
}
