import JacoKernel
import JacoRuntime
import Testing

/// Jaco's TOML reader (which replaced toml++ after the fuzzer made that abort): what configs
/// use parses to the right values; malformed input is an error naming line and column.
@Suite("TOML reader")
struct TOMLParserTests {
    static func values(_ text: String) throws -> [String: ConfigValue] {
        try JacoConfig.parse(text, source: "t.toml").section("storage").values
    }

    @Test("Strings, numbers, booleans, arrays, inline tables, dotted keys, arrays of tables and comments parse")
    func parses() throws {
        let text = #"""
            # a comment
            [storage]            # trailing comment
            engine = "sqlite"
            path = 'C:\data\jaco.sqlite'
            note = "tab\tquote\" unicode \u00e9 \U0001F600"
            multi = """
            first \
              second"""
            raw = '''
            line 1
            line 2'''
            count = 1_000
            hex = 0xff
            octal = 0o17
            binary = 0b101
            negative = -42
            ratio = 0.25
            big = 6.02e23
            on = true
            off = false
            list = [ "a", 'b',   # comments and newlines inside arrays
              "c", ]
            nested = [[1, 2], [3]]
            inline = { a = 1, b.c = "d" }
            dotted.key = "x"
            "quoted key" = 7

            [[listeners]]
            kind = "grpc"
            [[listeners]]
            kind = "grpc-unix"
            """#
        let storage = try Self.values(text)
        #expect(storage["engine"] == .string("sqlite"))
        #expect(storage["path"] == .string(#"C:\data\jaco.sqlite"#))
        #expect(storage["note"] == .string("tab\tquote\" unicode é 😀"))
        #expect(storage["multi"] == .string("first second"))
        #expect(storage["raw"] == .string("line 1\nline 2"))
        #expect(storage["count"] == .integer(1000) && storage["hex"] == .integer(255) && storage["octal"] == .integer(15) && storage["binary"] == .integer(5))
        #expect(storage["negative"] == .integer(-42) && storage["ratio"] == .double(0.25) && storage["big"] == .double(6.02e23))
        #expect(storage["on"] == .bool(true) && storage["off"] == .bool(false))
        #expect(storage["list"] == .array([.string("a"), .string("b"), .string("c")]))
        #expect(storage["nested"] == .array([.array([.integer(1), .integer(2)]), .array([.integer(3)])]))
        #expect(storage["inline"] == .table(["a": .integer(1), "b": .table(["c": .string("d")])]))
        #expect(storage["dotted"] == .table(["key": .string("x")]))
        #expect(storage["quoted key"] == .integer(7))
        let config = try JacoConfig.parse(text, source: "t.toml")
        #expect(config.listenerSections.map { $0.values["kind"] } == [.string("grpc"), .string("grpc-unix")])
    }

    @Test("Malformed input is an error naming line and column (the fuzzer's finds among them)", arguments: [
        ("[storage]\n[=]\n", "t.toml:2:2: expected a key"),
        ("[storage]\n[\n", "t.toml:2:2: expected a key"),
        ("[storage]\n[[ é ]]\n", "t.toml:2:4: expected a key"),
        ("[storage]\ni=[}\n", "t.toml:2:4: expected a value"),
        ("[storage]\nengine = \n", "t.toml:2:10: expected a value"),
        ("[storage]\na = 1\na = 2\n", "t.toml:3:6: the key 'a' is set twice"),
        ("[storage]\n[storage]\n", "t.toml:2:10: the table [storage] is defined twice"),
        ("[storage]\na.b = 1\n[storage.a]\n", "t.toml:3:12: 'storage.a': 'a' was defined as an inline table or by a dotted key"),
        ("[storage]\nx = 2024-01-01\n", "t.toml:2:15: '2024-01-01': dates and times are not used"),
        ("[storage]\nx = \"open\n", "t.toml:2:10: a one-line string is not closed"),
        ("[storage]\nx = 1 2\n", "t.toml:2:7: expected the end of the line"),
        ("[storage]\nx = 012\n", "t.toml:2:8: '012' is not a valid value"),
        ("[storage]\nx = \"\\q\"\n", "t.toml:2:8: unknown escape '\\q'"),
        ("[storage]\nx = {a = 1,}\n", "t.toml:2:12: expected a key"),
    ])
    func malformed(text: String, expected: String) {
        let error = #expect(throws: JacoError.self) { _ = try JacoConfig.parse(text, source: "t.toml") }
        #expect(error?.code == .configInvalid && error?.message.hasPrefix(expected) == true, "\(String(describing: error?.message)) vs \(expected)")
    }

    @Test("Deep nesting is bounded, not a stack overflow")
    func depth() {
        let deep = "[storage]\nx = " + String(repeating: "[", count: 10_000) + "\n"
        let error = #expect(throws: JacoError.self) { _ = try JacoConfig.parse(deep, source: "t.toml") }
        #expect(error?.message.contains("nested more than 64 deep") == true, "\(String(describing: error))")
    }
}
