import Foundation

/// The audit log as a lazy sequence: past events are read a page at a time as the consumer
/// asks for them (so a slow reader of a long log holds one page, not the log), then, when
/// following, new events from the change feed. Events come oldest first, each once.
public struct AuditEventStream: AsyncSequence, Sendable {
    public typealias Element = AuditEvent

    let storage: any Storage
    let matches: @Sendable (AuditEvent) -> Bool
    let follow: Bool
    /// Resume after this sequence number (0: from the start).
    let after: UInt64
    /// Events read per store page.
    static let pageSize = 1000

    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self, cursor: after)
    }

    /// Pages through the log, then follows the feed.
    public struct Iterator: AsyncIteratorProtocol {
        let stream: AuditEventStream
        /// The sequence of the last event read from the store (matching or not).
        var cursor: UInt64
        var pending: [AuditEvent] = []
        var position = 0
        var pastDone = false
        var feed: ChangeFeed.Iterator?

        public mutating func next() async throws -> AuditEvent? {
            while true {
                if position < pending.count {
                    position += 1
                    return pending[position - 1]
                }
                if !pastDone {
                    try await readPage()
                    continue
                }
                guard stream.follow, var iterator = feed else { return nil }
                guard let change = try await iterator.next() else { return nil }
                feed = iterator
                pending = try change.mutations.compactMap { mutation -> AuditEvent? in
                    guard mutation.key.hasPrefix(KeySpace.auditPrefix), let value = mutation.value else { return nil }
                    let event = try AuditEvent(decoding: value, key: mutation.key)
                    return event.sequence > cursor && stream.matches(event) ? event : nil
                }
                position = 0
                cursor = pending.last?.sequence ?? cursor
            }
        }

        /// The next page of past events; at the end of the log, the feed from the index of the
        /// snapshot that saw the end (events past `cursor` in it are deduplicated above).
        private mutating func readPage() async throws {
            let (after, storage) = (cursor, stream.storage)
            let (entries, index) = try await storage.read { snapshot in
                (try await snapshot.scan(prefix: KeySpace.auditPrefix, startingAfter: after == 0 ? nil : KeySpace.audit(after), limit: AuditEventStream.pageSize), snapshot.index)
            }
            let events = try entries.map { try AuditEvent(decoding: $0.value.bytes, key: $0.key) }
            cursor = events.last?.sequence ?? cursor
            pending = events.filter(stream.matches)
            position = 0
            if entries.count < AuditEventStream.pageSize {
                pastDone = true
                if stream.follow { feed = storage.changes(after: index).makeAsyncIterator() }
            }
        }
    }
}
