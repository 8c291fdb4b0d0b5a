@testable import JacoKernel
import Synchronization
import Testing

@Suite("Use record")
struct UseRecordTests {
    @Test("Own verifies and store times keep the newest of each, in one word")
    func times() throws {
        let use = UseRecord()
        #expect(use.newest == nil && use.unflushed == nil && !use.needsFlush)
        use.stored(1_700_000_000)
        #expect(use.newest == 1_700_000_000 && use.unflushed == nil)
        use.stored(1_600_000_000)  // older: ignored
        #expect(use.newest == 1_700_000_000)
        UseClock.tick()
        let before = UseClock.now
        use.record()
        let now = try #require(use.unflushed)  // (other tests may tick the clock meanwhile)
        #expect(now >= before && use.newest == now && use.needsFlush)
        use.stored(now)  // written: nothing left to flush
        #expect(use.unflushed == nil && use.newest == now)

        let replacement = UseRecord()
        replacement.stored(1_650_000_000)
        replacement.absorb(use)
        #expect(replacement.newest == now && replacement.unflushed == nil)
        let fresh = UseRecord()
        fresh.absorb(replacement)
        #expect(fresh.newest == now)

        let clamped = UseRecord()
        clamped.stored(-5)
        #expect(clamped.newest == nil)
        clamped.stored(Int64(UInt32.max) + 10)  // past 2106: kept at the largest time it holds
        #expect(clamped.newest == Int64(UInt32.max))
        clamped.record(at: Int64(UInt32.max) + 10)  // the same for this daemon's own uses
        #expect(clamped.newest == Int64(UInt32.max) && clamped.unflushed == nil)
    }
}
