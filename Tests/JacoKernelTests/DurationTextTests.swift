import JacoKernel
import Testing

@Suite("Durations as people write them")
struct DurationTextTests {
    @Test("Go-style durations plus days parse", arguments: [
        ("90s", 90.0), ("15m", 900), ("1h30m", 5400), ("30d", 2_592_000), ("500ms", 0.5), ("1.5h", 5400), ("0", 0), ("2d12h", 216_000),
    ])
    func parses(text: String, seconds: Double) {
        #expect(DurationText.parse(text) == seconds)
    }

    @Test("Anything else is not a duration", arguments: ["", "5x", "m", "1h30", "ten minutes", "-5s", "1hm"])
    func rejects(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test("Formatting uses the largest whole units")
    func formats() {
        #expect(DurationText.format(2_592_000) == "30d")
        #expect(DurationText.format(5400) == "1h30m")
        #expect(DurationText.format(45) == "45s")
        #expect(DurationText.format(0) == "0s")
        #expect(DurationText.format(0.25) == "250ms")
    }
}
