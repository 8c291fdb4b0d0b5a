import Foundation
import JacoKernel
import Testing

@Suite("RFC 3339 formatting")
struct DateFormattingTests {
    @Test("The hand-written formatter agrees with Foundation's, whole seconds and milliseconds")
    func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        // Leap days, year ends, before 1970, and random instants up to 2200.
        var samples: [Int64] = [0, -1, 951_782_400_000, 951_868_799_999, 1_704_067_199_999, -2_208_988_800_000, 4_102_444_800_123]
        for _ in 0..<2000 { samples.append(Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &generator)) }
        for millis in samples {
            let date = Date(milliseconds: millis)
            let foundation = formatter.string(from: date)  // always .SSS
            #expect(date.rfc3339 == String(foundation.prefix(19)) + "Z", "\(millis)")
            let expected = millis % 1000 == 0 ? String(foundation.prefix(19)) + "Z" : foundation
            #expect(date.rfc3339Milliseconds == expected, "\(millis)")
        }
    }
}
