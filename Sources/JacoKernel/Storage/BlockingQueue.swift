import Dispatch

/// Runs blocking engine calls (disk I/O, fsync) one at a time on a dedicated thread pool queue,
/// off Swift's cooperative executor.
public final class BlockingQueue: Sendable {
    private let queue: DispatchQueue

    /// Creates a serial queue with a label for debugging.
    public init(label: String) {
        self.queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
