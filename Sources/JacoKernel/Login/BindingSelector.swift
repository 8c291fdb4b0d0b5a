/// A binding rule's `Selector`: the part of Consul's expression language (go-bexpr) that its
/// auth-method docs use, over a login's `value.<field>` and `list.<field>`:
/// `==`, `!=`, `in`, `not in`, `contains`, `not contains`, `is empty`, `is not empty`,
/// `and`, `or`, `not` and parentheses. Values are `"quoted"`, `` `raw` `` or bare words.
public struct BindingSelector: Sendable {
    indirect enum Node: Sendable {
        case and(Node, Node), or(Node, Node), not(Node), match(Match)
    }

    struct Match: Sendable {
        var field: Field
        var op: Op
        var value: String
    }

    enum Field: Sendable, Equatable, CustomStringConvertible {
        case value(String), list(String)
        var description: String {
            switch self {
            case .value(let name): "value.\(name)"
            case .list(let name): "list.\(name)"
            }
        }
    }

    enum Op: Sendable { case equal, notEqual, contains, notContains, isEmpty, isNotEmpty }

    /// The longest selector accepted, and the deepest nesting: bounds on work per login.
    static let maxLength = 4096, maxDepth = 32

    let root: Node?

    /// Parses `text`; an empty selector matches every login. Throws `validation_failed`
    /// naming what is wrong and where.
    public init(parsing text: String) throws(JacoError) {
        guard text.utf8.count <= Self.maxLength else {
            throw JacoError(.validationFailed, "Selector is invalid: longer than \(Self.maxLength) bytes")
        }
        var parser = Parser(tokens: try Self.tokenize(text))
        if parser.tokens.isEmpty {
            root = nil
            return
        }
        root = try parser.parseOr(depth: 0)
        if let extra = parser.peek {
            throw JacoError(.validationFailed, "Selector is invalid: unexpected \(extra.text.quotedForError) at position \(extra.position)")
        }
    }

    /// Checks that every field the selector reads exists in `blank` (the method's identity
    /// shape) and that each operator applies to its field's kind.
    public func check(against blank: VerifiedIdentity) throws(JacoError) {
        guard let root else { return }
        try Self.check(root, blank)
    }

    /// Whether `identity` satisfies the selector. A field the identity lacks makes the whole
    /// selector false (go-bexpr fails the evaluation).
    public func matches(_ identity: VerifiedIdentity) -> Bool {
        guard let root else { return true }
        return Self.evaluate(root, identity) ?? false
    }

    // MARK: - Evaluation

    private static func evaluate(_ node: Node, _ identity: VerifiedIdentity) -> Bool? {
        switch node {
        case .and(let l, let r):
            guard let left = evaluate(l, identity) else { return nil }
            guard left else { return false }
            return evaluate(r, identity)
        case .or(let l, let r):
            guard let left = evaluate(l, identity) else { return nil }
            if left { return true }
            return evaluate(r, identity)
        case .not(let inner):
            return evaluate(inner, identity).map { !$0 }
        case .match(let m):
            switch m.field {
            case .value(let name):
                guard let value = identity.values[name] else { return nil }
                switch m.op {
                case .equal: return value == m.value
                case .notEqual: return value != m.value
                case .contains: return value.contains(m.value)
                case .notContains: return !value.contains(m.value)
                case .isEmpty: return value.isEmpty
                case .isNotEmpty: return !value.isEmpty
                }
            case .list(let name):
                guard let list = identity.lists[name] else { return nil }
                switch m.op {
                case .contains: return list.contains(m.value)
                case .notContains: return !list.contains(m.value)
                case .isEmpty: return list.isEmpty
                case .isNotEmpty: return !list.isEmpty
                case .equal, .notEqual: return nil
                }
            }
        }
    }

    private static func check(_ node: Node, _ blank: VerifiedIdentity) throws(JacoError) {
        switch node {
        case .and(let l, let r), .or(let l, let r):
            try check(l, blank)
            try check(r, blank)
        case .not(let inner):
            try check(inner, blank)
        case .match(let m):
            switch m.field {
            case .value(let name) where blank.values[name] == nil, .list(let name) where blank.lists[name] == nil:
                let known = blank.values.keys.map { "value.\($0)" } + blank.lists.keys.map { "list.\($0)" }
                throw JacoError(
                    .validationFailed,
                    "Selector is invalid: \(m.field.description.quotedForError) is not a field of this auth method's logins (its fields: \(known.isEmpty ? "none; map claims with ClaimMappings or ListClaimMappings" : known.sorted().joined(separator: ", ")))")
            case .list where m.op == .equal || m.op == .notEqual:
                throw JacoError(.validationFailed, "Selector is invalid: \(m.field.description.quotedForError) is a list: compare it with 'in', 'not in' or 'is empty', not '==' or '!='")
            default:
                return
            }
        }
    }

    // MARK: - Tokens

    struct Token: Sendable {
        var text: String
        var quoted: Bool
        var position: Int
    }

    private static func tokenize(_ text: String) throws(JacoError) -> [Token] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c.properties.isWhitespace {
                i += 1
            } else if c == "(" || c == ")" {
                tokens.append(Token(text: String(c), quoted: false, position: i))
                i += 1
            } else if (c == "=" || c == "!") && i + 1 < scalars.count && scalars[i + 1] == "=" {
                tokens.append(Token(text: String(c) + "=", quoted: false, position: i))
                i += 2
            } else if c == "\"" || c == "`" {
                let start = i
                var value = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < scalars.count {
                    let d = scalars[i]
                    if d == c {
                        closed = true
                        i += 1
                        break
                    }
                    if c == "\"" && d == "\\" && i + 1 < scalars.count {
                        let e = scalars[i + 1]
                        switch e {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        default: value.append(e)
                        }
                        i += 2
                        continue
                    }
                    value.append(d)
                    i += 1
                }
                guard closed else { throw JacoError(.validationFailed, "Selector is invalid: unterminated string at position \(start)") }
                tokens.append(Token(text: String(value), quoted: true, position: start))
            } else if c == "=" || c == "!" {
                throw JacoError(.validationFailed, "Selector is invalid: \(String(c).quotedForError) at position \(i) (did you mean '\(c)='?)")
            } else {
                let start = i
                var word = String.UnicodeScalarView()
                while i < scalars.count {
                    let d = scalars[i]
                    if d.properties.isWhitespace || d == "(" || d == ")" || d == "\"" || d == "`" || d == "=" || d == "!" { break }
                    word.append(d)
                    i += 1
                }
                tokens.append(Token(text: String(word), quoted: false, position: start))
            }
        }
        return tokens
    }

    // MARK: - Grammar

    private struct Parser {
        let tokens: [Token]
        var at = 0

        var peek: Token? { at < tokens.count ? tokens[at] : nil }

        func isKeyword(_ word: String, offset: Int = 0) -> Bool {
            let i = at + offset
            return i < tokens.count && !tokens[i].quoted && tokens[i].text == word
        }

        mutating func next(_ what: String) throws(JacoError) -> Token {
            guard let token = peek else { throw JacoError(.validationFailed, "Selector is invalid: it ends where \(what) should follow") }
            at += 1
            return token
        }

        mutating func expect(_ word: String) throws(JacoError) {
            let token = try next("'\(word)'")
            guard !token.quoted && token.text == word else {
                throw JacoError(.validationFailed, "Selector is invalid: expected '\(word)' at position \(token.position), found \(token.text.quotedForError)")
            }
        }

        mutating func parseOr(depth: Int) throws(JacoError) -> Node {
            var node = try parseAnd(depth: depth)
            while isKeyword("or") {
                at += 1
                node = .or(node, try parseAnd(depth: depth))
            }
            return node
        }

        mutating func parseAnd(depth: Int) throws(JacoError) -> Node {
            var node = try parseUnary(depth: depth)
            while isKeyword("and") {
                at += 1
                node = .and(node, try parseUnary(depth: depth))
            }
            return node
        }

        mutating func parseUnary(depth: Int) throws(JacoError) -> Node {
            guard depth < BindingSelector.maxDepth else {
                throw JacoError(.validationFailed, "Selector is invalid: nested deeper than \(BindingSelector.maxDepth) levels")
            }
            if isKeyword("not") {
                at += 1
                return .not(try parseUnary(depth: depth + 1))
            }
            if isKeyword("(") {
                at += 1
                let inner = try parseOr(depth: depth + 1)
                try expect(")")
                return inner
            }
            return .match(try parseMatch())
        }

        /// `field ==|!= value`, `field is [not] empty`, `field [not] contains value`,
        /// `value [not] in field`.
        mutating func parseMatch() throws(JacoError) -> Match {
            let first = try next("a match expression")
            if isKeyword("in") || (isKeyword("not") && isKeyword("in", offset: 1)) {
                let negated = isKeyword("not")
                at += negated ? 2 : 1
                let field = try Self.field(try next("a field after 'in'"))
                return Match(field: field, op: negated ? .notContains : .contains, value: first.text)
            }
            let field = try Self.field(first)
            let op = try next("an operator after \(first.text.quotedForError)")
            switch (op.quoted, op.text) {
            case (false, "=="), (false, "!="):
                let value = try next("a value after '\(op.text)'")
                if !value.quoted && ["and", "or", "not", "(", ")"].contains(value.text) {
                    throw JacoError(.validationFailed, "Selector is invalid: expected a value at position \(value.position), found '\(value.text)'")
                }
                return Match(field: field, op: op.text == "==" ? .equal : .notEqual, value: value.text)
            case (false, "is"):
                let negated = isKeyword("not")
                if negated { at += 1 }
                try expect("empty")
                return Match(field: field, op: negated ? .isNotEmpty : .isEmpty, value: "")
            case (false, "contains"):
                return Match(field: field, op: .contains, value: try next("a value after 'contains'").text)
            case (false, "not") where isKeyword("contains"):
                at += 1
                return Match(field: field, op: .notContains, value: try next("a value after 'not contains'").text)
            case (false, "matches"):
                throw JacoError(.validationFailed, "Selector is invalid: 'matches' (regular expressions) is not supported; use ==, !=, in, not in, contains or is empty")
            case (false, "not") where isKeyword("matches"):
                throw JacoError(.validationFailed, "Selector is invalid: 'matches' (regular expressions) is not supported; use ==, !=, in, not in, contains or is empty")
            default:
                throw JacoError(.validationFailed, "Selector is invalid: expected ==, !=, in, not in, contains or is empty at position \(op.position), found \(op.text.quotedForError)")
            }
        }

        static func field(_ token: Token) throws(JacoError) -> Field {
            let text = token.text
            if !token.quoted {
                if text.hasPrefix("value."), text.count > 6 { return .value(String(text.dropFirst(6))) }
                if text.hasPrefix("list."), text.count > 5 { return .list(String(text.dropFirst(5))) }
            }
            throw JacoError(.validationFailed, "Selector is invalid: expected a field (value.<name> or list.<name>) at position \(token.position), found \(text.quotedForError)")
        }
    }
}

extension String {
    /// The text in double quotes, bounded and escaped, for an error message.
    var quotedForError: String { "\"\(EchoedInput.quote(self))\"" }
}
