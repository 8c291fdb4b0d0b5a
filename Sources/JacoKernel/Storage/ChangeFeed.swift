/// The change feed of a store: committed changes in commit order, then live ones as they commit.
///
/// Engines that keep changes themselves build it from a ``ChangeFeedHub`` (the iterator pulls
/// straight from the hub, with no task in between); others wrap an `AsyncThrowingStream`.
public struct ChangeFeed: AsyncSequence, Sendable {
    public typealias Element = Change
    public typealias Failure = any Error

    private enum Source: Sendable {
        case hub(ChangeFeedHub, StoreIndex, ChangeFeedHub.LoadOlder)
        case stream(AsyncThrowingStream<Change, any Error>)
    }

    private let source: Source

    init(hub: ChangeFeedHub, after index: StoreIndex, loadOlder: @escaping ChangeFeedHub.LoadOlder) {
        source = .hub(hub, index, loadOlder)
    }

    /// A feed that forwards a stream of changes.
    public init(stream: AsyncThrowingStream<Change, any Error>) {
        source = .stream(stream)
    }

    public func makeAsyncIterator() -> Iterator {
        switch source {
        case .hub(let hub, let index, let loadOlder): Iterator(mode: .hub(hub, loadOlder), cursor: index)
        case .stream(let stream): Iterator(mode: .stream(stream.makeAsyncIterator()), cursor: 0)
        }
    }

    /// Iterates the feed. Ends (returns nil) when the task is cancelled or the store closes.
    public struct Iterator: AsyncIteratorProtocol {
        fileprivate enum Mode {
            case hub(ChangeFeedHub, ChangeFeedHub.LoadOlder)
            case stream(AsyncThrowingStream<Change, any Error>.Iterator)
        }

        fileprivate var mode: Mode
        fileprivate var cursor: StoreIndex
        private var buffer: [Change] = []
        private var position = 0

        fileprivate init(mode: Mode, cursor: StoreIndex) {
            self.mode = mode
            self.cursor = cursor
        }

        public mutating func next() async throws -> Change? {
            switch mode {
            case .stream(var iterator):
                defer { mode = .stream(iterator) }
                return try await iterator.next()
            case .hub(let hub, let loadOlder):
                if position == buffer.count {
                    guard let batch = try await hub.next(after: cursor, loadOlder: loadOlder) else { return nil }
                    buffer = batch
                    position = 0
                }
                let change = buffer[position]
                position += 1
                cursor = change.index
                return change
            }
        }
    }
}
