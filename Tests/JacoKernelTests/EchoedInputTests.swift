import JacoKernel
import Testing

@Suite("Echoed input in errors")
struct EchoedInputTests {
    @Test("Long input is cut at 128 characters, with a count of the rest")
    func bounded() {
        let quoted = EchoedInput.quote(String(repeating: "a", count: 300))
        #expect(quoted == String(repeating: "a", count: 128) + "…(172 more characters)")
        #expect(EchoedInput.quote("short") == "short")
    }

    @Test("Controls, bidi overrides and invisible characters are escaped; ordinary text is kept")
    func escaped() {
        #expect(EchoedInput.quote("a\u{1B}[31mb") == "a\\u{1B}[31mb")
        #expect(EchoedInput.quote("x\u{202E}y\u{0}z\n") == "x\\u{202E}y\\u{0}z\\u{A}")
        #expect(EchoedInput.quote("zero\u{200B}width") == "zero\\u{200B}width")
        #expect(EchoedInput.quote("café 😀 日本") == "café 😀 日本")
        #expect(EchoedInput.bounded(String(repeating: "é", count: 2000)).count == 1025)
    }
}
