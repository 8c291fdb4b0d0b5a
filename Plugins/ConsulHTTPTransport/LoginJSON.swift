import JacoKernel

/// Consul's JSON for auth methods, binding rules and login (agent/structs/acl.go
/// ACLAuthMethod, ACLBindingRule, ACLLoginParams).
enum LoginJSON {
    static let authMethodFields: Set<String> = ConsulJSON.Fields.common.union([
        "Name", "Type", "DisplayName", "Description", "MaxTokenTTL", "TokenLocality", "Config", "NamespaceRules",
    ])
    static let bindingRuleFields: Set<String> = ConsulJSON.Fields.common.union([
        "ID", "Description", "AuthMethod", "Selector", "BindType", "BindName", "BindVars",
    ])

    /// An auth-method create or update body.
    static func authMethodRequest(_ body: JSONValue) throws(GoStructDecoder.Failure) -> AuthMethodRequest {
        let d = try GoStructDecoder(body, structName: "ACLAuthMethod", goType: "structs.ACLAuthMethod")
        try d.rejectUnknownFields(authMethodFields)
        var request = AuthMethodRequest()
        request.name = try d.string("Name")
        request.type = try d.string("Type")
        request.displayName = try d.string("DisplayName")
        request.description = try d.string("Description")
        request.maxTokenTTL = try d.duration("MaxTokenTTL")
        request.tokenLocality = try d.string("TokenLocality")
        switch d.value("Config") {
        case nil, .null?: request.config = "{}"
        case .object(let members)?: request.config = String(decoding: JSONValue.object(members).bytes, as: UTF8.self)
        case let other?:
            throw GoStructDecoder.Failure(message: "json: cannot unmarshal \(other.goKind) into Go struct field ACLAuthMethod.Config of type map[string]interface {}")
        }
        try d.refuse("NamespaceRules", goType: "[]*structs.ACLAuthMethodNamespaceRule", because: "namespace rules are a Consul Enterprise feature Jaco does not model")
        _ = try d.string("Namespace")
        _ = try d.string("Partition")
        try d.checkUInt64("CreateIndex")
        try d.checkUInt64("ModifyIndex")
        return request
    }

    /// A binding-rule create or update body.
    static func bindingRuleRequest(_ body: JSONValue) throws(GoStructDecoder.Failure) -> BindingRuleRequest {
        let d = try GoStructDecoder(body, structName: "ACLBindingRule", goType: "structs.ACLBindingRule")
        try d.rejectUnknownFields(bindingRuleFields)
        var request = BindingRuleRequest()
        request.id = try d.string("ID")
        request.description = try d.string("Description")
        request.authMethod = try d.string("AuthMethod")
        request.selector = try d.string("Selector")
        request.bindType = try d.string("BindType")
        request.bindName = try d.string("BindName")
        if let bindVars = d.value("BindVars"), bindVars != .null {
            throw GoStructDecoder.Failure(message: "BindVars is not supported by Jaco (templated policies grant rights Jaco does not model); remove it from the request")
        }
        _ = try d.string("Namespace")
        _ = try d.string("Partition")
        try d.checkUInt64("CreateIndex")
        try d.checkUInt64("ModifyIndex")
        return request
    }

    /// A login body: the method, the credential and the meta for the description.
    static func loginRequest(_ body: JSONValue) throws(GoStructDecoder.Failure) -> (method: String, credential: String, meta: [String: String]) {
        let d = try GoStructDecoder(body, structName: "ACLLoginParams", goType: "structs.ACLLoginParams")
        try d.rejectUnknownFields(["AuthMethod", "BearerToken", "Meta", "Namespace", "Partition"])
        var meta: [String: String] = [:]
        switch d.value("Meta") {
        case nil, .null?: break
        case .object(let members)?:
            for (key, value) in members {
                guard case .string(let text) = value else {
                    throw GoStructDecoder.Failure(message: "json: cannot unmarshal \(value.goKind) into Go struct field ACLLoginParams.Meta of type string")
                }
                meta[key] = text
            }
        case let other?:
            throw GoStructDecoder.Failure(message: "json: cannot unmarshal \(other.goKind) into Go struct field ACLLoginParams.Meta of type map[string]string")
        }
        _ = try d.string("Namespace")
        _ = try d.string("Partition")
        return (try d.string("AuthMethod"), try d.string("BearerToken"), meta)
    }

    /// An auth method; a list's stub leaves out `Config`.
    static func authMethod(_ entry: Indexed<AuthMethod>, stub: Bool = false) -> JSONValue {
        let method = entry.record
        var members: [(key: String, value: JSONValue)] = [("Name", .string(method.name)), ("Type", .string(method.type))]
        if !method.displayName.isEmpty { members.append(("DisplayName", .string(method.displayName))) }
        members.append(("Description", .string(method.description)))
        if method.maxTokenTTL > 0 { members.append(("MaxTokenTTL", .string(GoDuration.format(method.maxTokenTTL)))) }
        if !method.tokenLocality.isEmpty { members.append(("TokenLocality", .string(method.tokenLocality))) }
        if !stub { members.append(("Config", (try? JSONParser.parse(Array(method.config.utf8))) ?? .object([]))) }
        members += [
            ("CreateIndex", .number(String(entry.createIndex))),
            ("ModifyIndex", .number(String(entry.modifyIndex))),
            ("Namespace", .string("default")),
        ]
        return .object(members)
    }

    /// A binding rule.
    static func bindingRule(_ entry: Indexed<BindingRule>) -> JSONValue {
        let rule = entry.record
        return .object([
            ("ID", .string(rule.id)),
            ("Description", .string(rule.description)),
            ("AuthMethod", .string(rule.authMethod)),
            ("Selector", .string(rule.selector)),
            ("BindType", .string(rule.bindType.rawValue)),
            ("BindName", .string(rule.bindName)),
            ("CreateIndex", .number(String(entry.createIndex))),
            ("ModifyIndex", .number(String(entry.modifyIndex))),
            ("Namespace", .string("default")),
        ])
    }
}
