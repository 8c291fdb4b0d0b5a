import CJacoLock

/// A value behind the verification cache's lock (`CJacoLock`): taking it is one atomic exchange
/// and releasing it one plain store, where `Mutex` pays an atomic read-modify-write on each side
/// (~8 ns of a ~115 ns verify). Waiters spin briefly, then sleep on a futex. Not reentrant, not
/// fair — a releasing thread can take it again before a woken waiter does — so work over many
/// items takes it once per batch, not once per item (listings: once per page); for short
/// critical sections that are mostly reads, as the cache's are.
final class CacheLock<Value>: @unchecked Sendable {  // `value` only under `lock`
    private let lock: UnsafeMutableRawPointer
    /// Touched only under the lock, so the run-time exclusivity check is left out.
    @exclusivity(unchecked) private var value: Value

    /// Puts `value` behind a new lock.
    init(_ value: Value) {
        lock = .allocate(byteCount: Int(jaco_lock_size), alignment: 8)
        lock.initializeMemory(as: UInt8.self, repeating: 0, count: Int(jaco_lock_size))
        self.value = value
    }

    deinit { lock.deallocate() }

    /// Runs `body` with the value, holding the lock.
    @inline(__always)
    func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        jaco_lock_acquire(lock)
        defer { jaco_lock_release(lock) }
        return try body(&value)
    }
}
