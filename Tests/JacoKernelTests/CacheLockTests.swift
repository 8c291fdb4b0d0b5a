import Dispatch
import Foundation
@testable import JacoKernel
import Testing

@Suite("Cache lock")
struct CacheLockTests {
    @Test("Threads that contend, some holding the lock for milliseconds (so that others sleep on it), never overlap and lose no update")
    func mutualExclusion() {
        struct Counter {
            var value = 0
            var inside = 0
            var overlaps = 0
        }
        let lock = CacheLock(Counter())
        let threads = 8
        let rounds = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for round in 0..<rounds {
                lock.withLock { counter in
                    counter.inside += 1
                    if counter.inside != 1 { counter.overlaps += 1 }
                    counter.value += 1
                    // Now and then a long hold: waiters go past spinning to the futex.
                    if round % 5_000 == thread { usleep(2_000) }
                    counter.inside -= 1
                }
            }
        }
        let result = lock.withLock { $0 }
        #expect(result.value == threads * rounds)
        #expect(result.overlaps == 0)
    }

    @Test("A thrown error leaves the lock released")
    func releasesOnThrow() {
        struct Failure: Error {}
        let lock = CacheLock(0)
        #expect(throws: Failure.self) { try lock.withLock { (_: inout Int) throws(Failure) in throw Failure() } }
        #expect(lock.withLock { value -> Int in
            value += 1
            return value
        } == 1)
    }
}
