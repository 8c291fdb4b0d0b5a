import Synchronization

/// Lets a listener end its blocking queries at shutdown: each wait runs as a task the drain can
/// cancel, so a graceful shutdown does not sit out a ten-minute wait.
final class ShutdownDrain: Sendable {
    private struct State {
        var closed = false
        var next: UInt64 = 0
        var running: [UInt64: Task<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Runs `wait` until it returns or the drain closes.
    func run(_ wait: @escaping @Sendable () async -> Void) async {
        let task = Task { await wait() }
        let id = state.withLock { s -> UInt64? in
            if s.closed { return nil }
            s.next += 1
            s.running[s.next] = task
            return s.next
        }
        if id == nil { task.cancel() }
        await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        if let id { _ = state.withLock { $0.running.removeValue(forKey: id) } }
    }

    /// Cancels every running wait and every later one.
    func close() {
        let tasks = state.withLock { s in
            s.closed = true
            return Array(s.running.values)
        }
        for task in tasks { task.cancel() }
    }
}
