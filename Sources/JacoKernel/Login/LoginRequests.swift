import Foundation

/// What a client asks for when it creates or changes an auth method.
public struct AuthMethodRequest: Sendable {
    /// Unique name; on update, the one in the URL.
    public var name = ""
    /// The type (`jwt`); on update, empty keeps the current one.
    public var type = ""
    /// A name for people.
    public var displayName = ""
    /// Free text.
    public var description = ""
    /// The lifetime of its login tokens; 0 for none.
    public var maxTokenTTL: TimeInterval = 0
    /// `local`, `global` or empty (local).
    public var tokenLocality = ""
    /// The type's settings, as the text of one JSON object.
    public var config = "{}"

    /// Creates an empty request.
    public init() {}
}

/// What a client asks for when it creates or changes a binding rule.
public struct BindingRuleRequest: Sendable {
    /// The ID in the body ("" for none).
    public var id = ""
    /// Free text.
    public var description = ""
    /// The auth method; on update, empty keeps the current one.
    public var authMethod = ""
    /// Which logins it applies to; empty for all.
    public var selector = ""
    /// `service`, `role` or `policy`.
    public var bindType = ""
    /// The name it links, with `${value.<field>}` variables.
    public var bindName = ""

    /// Creates an empty request.
    public init() {}
}

extension AuditEventType {
    /// An auth method was created.
    public static let authMethodCreate = "auth_method_create"
    /// An auth method was changed.
    public static let authMethodUpdate = "auth_method_update"
    /// An auth method was deleted, with its binding rules (its login tokens follow as
    /// `token_delete` events).
    public static let authMethodDelete = "auth_method_delete"
    /// A binding rule was created.
    public static let bindingRuleCreate = "binding_rule_create"
    /// A binding rule was changed.
    public static let bindingRuleUpdate = "binding_rule_update"
    /// A binding rule was deleted.
    public static let bindingRuleDelete = "binding_rule_delete"
    /// A token was created by logging in with an auth method (never the credential).
    public static let login = "login"
    /// A login token was deleted by its holder.
    public static let logout = "logout"
}
