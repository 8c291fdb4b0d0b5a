@testable import JacoKernel
import Testing

@Suite("Binding-rule selectors and bind names")
struct BindingSelectorTests {
    static let identity = VerifiedIdentity(values: ["namespace": "ci", "team": "web-ops", "empty": ""], lists: ["groups": ["deployers", "readers"], "none": []])

    @Test("Consul's operators evaluate as go-bexpr does", arguments: [
        ("", true),
        ("value.namespace == ci", true),
        (#"value.namespace == "ci""#, true),
        ("value.namespace == `ci`", true),
        ("value.namespace != ci", false),
        (#""deployers" in list.groups"#, true),
        (#""admins" in list.groups"#, false),
        (#""admins" not in list.groups"#, true),
        ("ops in value.team", true),
        ("value.team contains web", true),
        ("list.groups contains readers", true),
        ("list.groups not contains readers", false),
        ("value.empty is empty", true),
        ("list.none is empty", true),
        ("list.groups is not empty", true),
        ("value.namespace == ci and value.team == web-ops", true),
        ("value.namespace == prod or value.team == web-ops", true),
        ("not value.namespace == prod", true),
        ("not (value.namespace == ci or value.team == x)", false),
        ("value.namespace == prod or value.namespace == ci and deployers in list.groups", true),
        ("value.missing == x", false),
        ("not value.missing == x", false),
    ])
    func evaluates(selector: String, expected: Bool) throws {
        #expect(try BindingSelector(parsing: selector).matches(Self.identity) == expected, "\(selector)")
    }

    @Test("Bad selectors are refused with what is wrong", arguments: [
        ("value.namespace ==", "ends where"),
        ("value.namespace = ci", "did you mean"),
        ("namespace == ci", "expected a field"),
        ("value.namespace == ci and", "ends where"),
        ("(value.namespace == ci", "')' should follow"),
        (#"value.namespace == "ci"#, "unterminated string"),
        ("value.namespace matches c.*", "not supported"),
        ("value.namespace ~ ci", "expected =="),
        (String(repeating: "not ", count: 40) + "value.a == b", "nested deeper"),
    ])
    func refusesBadSyntax(selector: String, reason: String) {
        #expect {
            try BindingSelector(parsing: selector)
        } throws: { error in
            (error as? JacoError)?.message.contains(reason) == true
        }
    }

    @Test("A selector may read only the method's fields, lists with list operators")
    func checksFields() throws {
        try BindingSelector(parsing: #"value.namespace == ci and x in list.groups"#).check(against: Self.identity)
        for (selector, reason) in [("value.nope == x", "value.nope"), ("list.groups == x", "is a list")] {
            #expect {
                try BindingSelector(parsing: selector).check(against: Self.identity)
            } throws: { error in
                (error as? JacoError)?.message.contains(reason) == true
            }
        }
    }

    @Test("Bind names interpolate lowercased values; a login's meta is JSON as Go writes it")
    func bindNamesAndMeta() throws {
        #expect(JSONText.quoted("<a&b>\n", escapingHTML: true) == #""\u003ca\u0026b\u003e\n""#)
        #expect(JSONText.quoted("<a>") == #""<a>""#)
        #expect(try BindName.interpolate("svc-${value.team}-${ value.env }", variables: ["value.team": "Web", "value.env": "prod"]) == "svc-web-prod")
        #expect(throws: JacoError.self) { try BindName.interpolate("${value.nope}", variables: ["value.team": "x"]) }
        #expect(throws: JacoError.self) { try BindName.interpolate("svc-${value.team", variables: ["value.team": "x"]) }
        #expect(BindName.isValid("web-1", for: .service) && !BindName.isValid("Web", for: .service) && !BindName.isValid("web-", for: .service))
        #expect(BindName.isValid("CI_Role-2", for: .role) && !BindName.isValid("ci role", for: .role) && !BindName.isValid(String(repeating: "p", count: 129), for: .policy))
        #expect(LoginService.description(meta: [:]) == "token created via login")
        #expect(LoginService.description(meta: ["pod": "default/web", "a": "<b>"]) == #"token created via login: {"a":"\u003cb\u003e","pod":"default/web"}"#)
    }
}
