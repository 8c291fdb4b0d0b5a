@testable import JacoKernel
import Testing

@Suite("Digest table")
struct DigestTableTests {
    final class Box {
        let value: Int
        init(_ value: Int) { self.value = value }
    }

    /// Digests whose first words collide on purpose (few distinct low bits), so probe runs
    /// wrap and deletions must shift entries back.
    static func digest(_ n: Int, collisions: Bool) -> Digest256 {
        var bytes = [UInt8](repeating: 0, count: 32)
        let low = collisions ? UInt64(n % 5) * 7 + 13 : UInt64(n) &* 0x9E37_79B9_7F4A_7C15
        withUnsafeBytes(of: low.littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
        withUnsafeBytes(of: UInt64(n).littleEndian) { for i in 0..<8 { bytes[8 + i] = $0[i] } }
        return bytes.withUnsafeBytes { Digest256(bytes: $0) }
    }

    @Test("Random inserts, updates and removals agree with a Dictionary", arguments: [false, true])
    func matchesDictionary(collisions: Bool) {
        var table = DigestTable<Box>()
        var model: [Int: Int] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let n = Int.random(in: 0..<400, using: &rng)
            if Bool.random(using: &rng) {
                table.set(Box(step), for: Self.digest(n, collisions: collisions))
                model[n] = step
            } else {
                table.remove(Self.digest(n, collisions: collisions))
                model[n] = nil
            }
        }
        #expect(table.count == model.count)
        for n in 0..<400 {
            #expect(table[Self.digest(n, collisions: collisions)]?.value == model[n], "digest \(n)")
        }
        table.removeAll()
        #expect(table.count == 0)
        #expect(table[Self.digest(1, collisions: collisions)] == nil)
    }
}
