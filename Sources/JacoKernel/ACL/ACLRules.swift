import Foundation

/// The level a policy's `acl` rule grants. When several policies apply, `deny` wins, then
/// `write`, then `read` (Consul's precedence).
public enum ACLLevel: String, Sendable, Comparable {
    /// No `acl` rule: no ACL rights.
    case none
    /// `acl = "read"`: read tokens, policies, roles and the audit log.
    case read
    /// `acl = "write"`: also create, change and delete them.
    case write
    /// `acl = "deny"`: no ACL rights, whatever other policies say.
    case deny

    private var precedence: Int {
        switch self {
        case .none: 0
        case .read: 1
        case .write: 2
        case .deny: 3
        }
    }

    public static func < (lhs: ACLLevel, rhs: ACLLevel) -> Bool { lhs.precedence < rhs.precedence }

    /// Whether the level allows reading ACL data.
    public var allowsRead: Bool { self == .read || self == .write }
    /// Whether the level allows changing ACL data.
    public var allowsWrite: Bool { self == .write }
}

/// Reads the `acl` rule out of a policy's rules, in Consul's HCL or JSON form. Other rules are
/// kept verbatim and not interpreted.
public enum ACLRules {
    /// The level the top-level `acl` rule grants (`.none` without one); `validation_failed`
    /// naming the problem when the rules cannot be read or the level is not read/write/deny.
    public static func aclLevel(in rules: String) throws(JacoError) -> ACLLevel {
        let trimmed = rules.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .none }
        let value = trimmed.hasPrefix("{") ? try jsonACL(trimmed) : try hclACL(trimmed)
        guard let value else { return .none }
        guard let level = ACLLevel(rawValue: value), level != .none else {
            throw JacoError(.validationFailed, "Failed to parse policy: invalid acl policy \"\(value)\": use \"read\", \"write\" or \"deny\"")
        }
        return level
    }

    private static func jsonACL(_ text: String) throws(JacoError) -> String? {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw JacoError(.validationFailed, "Failed to parse policy: the rules start with '{' but are not valid JSON")
        }
        guard let map = object as? [String: Any] else {
            throw JacoError(.validationFailed, "Failed to parse policy: JSON rules must be an object")
        }
        guard let acl = map["acl"] else { return nil }
        guard let value = acl as? String else {
            throw JacoError(.validationFailed, "Failed to parse policy: \"acl\" must be a string")
        }
        return value
    }

    /// Finds `acl = "<value>"` at nesting depth 0, skipping comments and quoted text, and
    /// checks that braces and quotes balance.
    private static func hclACL(_ text: String) throws(JacoError) -> String? {
        let chars = Array(text.unicodeScalars)
        var i = 0
        var depth = 0
        var found: String?
        func fail(_ why: String) -> JacoError { JacoError(.validationFailed, "Failed to parse policy: \(why)") }
        func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }
        func readString() throws(JacoError) -> String {
            // chars[i] is the opening quote.
            i += 1
            var value = ""
            while i < chars.count, chars[i] != "\"" {
                if chars[i] == "\\" { i += 1 }
                if i < chars.count { value.unicodeScalars.append(chars[i]) }
                i += 1
            }
            guard i < chars.count else { throw fail("unterminated string") }
            i += 1
            return value
        }
        while i < chars.count {
            let c = chars[i]
            if c == "#" || (c == "/" && i + 1 < chars.count && chars[i + 1] == "/") {
                while i < chars.count, chars[i] != "\n" { i += 1 }
            } else if c == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                i += 2
                while i + 1 < chars.count, !(chars[i] == "*" && chars[i + 1] == "/") { i += 1 }
                guard i + 1 < chars.count else { throw fail("unterminated comment") }
                i += 2
            } else if c == "\"" {
                _ = try readString()
            } else if c == "{" {
                depth += 1
                i += 1
            } else if c == "}" {
                depth -= 1
                guard depth >= 0 else { throw fail("unbalanced '}'") }
                i += 1
            } else if depth == 0, c == "a", i + 3 <= chars.count, String(String.UnicodeScalarView(chars[i..<i + 3])) == "acl",
                i == 0 || !isIdentifier(chars[i - 1]), i + 3 == chars.count || !isIdentifier(chars[i + 3])
            {
                i += 3
                skipSpaces()
                guard i < chars.count, chars[i] == "=" else { throw fail("expected '=' after acl") }
                i += 1
                skipSpaces()
                guard i < chars.count, chars[i] == "\"" else { throw fail("the value of acl must be a quoted string") }
                found = try readString()
            } else {
                i += 1
            }
        }
        guard depth == 0 else { throw fail("unbalanced '{'") }
        return found
    }

    private static func isIdentifier(_ c: Unicode.Scalar) -> Bool {
        c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-"
    }
}
