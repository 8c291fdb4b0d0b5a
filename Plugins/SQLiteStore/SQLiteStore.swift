import Foundation
import JacoKernel
import Synchronization

/// Settings of the SQLite engine.
struct SQLiteOptions: Sendable {
    var path: URL
    /// `PRAGMA synchronous`: `full` (default) makes a returned commit survive power loss in WAL mode.
    var synchronous: String = "full"
    var retainChanges: Int = 100_000
    var busyTimeoutMilliseconds: Int = 5000
    /// `PRAGMA wal_autocheckpoint`: the WAL's size, in pages, at which a commit copies it back
    /// into the database. Against SQLite's own default (1000, ~4 MiB), 10000 (~40 MiB of WAL)
    /// copies a page rewritten by many commits back once: 64 concurrent issuers 18–26 % faster,
    /// one caller's p99 lower, its p99.9 higher (docs/benchmarks.md, "SQLite's WAL checkpoint
    /// interval").
    var walAutocheckpointPages: Int = 10_000
}

/// The SQLite engine: WAL, one writer connection on its own queue, a pool of reader connections.
///
/// Tables: `kv` (key → value, create and modify index) and `changes` (the retained change log,
/// whose newest entry is the store index; trimming always keeps it). Keys are BLOBs, so their
/// order is byte order.
final class SQLiteStore: Storage, FaultInjecting, @unchecked Sendable {
    // Invariants behind @unchecked Sendable: `writer` is only touched on `writeQueue`; a reader
    // connection is used by one task at a time, checked out of `readers` under its mutex.
    private let writer: SQLiteConnection
    private let writeQueue: BlockingQueue
    private let readers = Mutex<[SQLiteConnection]>([])
    private let state: Mutex<(index: StoreIndex, fault: StorageFault?, closed: Bool, commits: Int)>
    private let hub: ChangeFeedHub
    private let options: SQLiteOptions

    init(options: SQLiteOptions) throws {
        self.options = options
        let path = options.path.path
        do {
            try FileManager.default.createDirectory(at: options.path.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw JacoError(.storageFailure, "cannot create the directory for the SQLite database '\(path)': \(error.localizedDescription)")
        }
        writer = try SQLiteConnection(path: path, readOnly: false)
        try writer.execute("PRAGMA busy_timeout = \(options.busyTimeoutMilliseconds)")
        try writer.execute("PRAGMA journal_mode = WAL")
        try writer.execute("PRAGMA synchronous = \(options.synchronous.uppercased())")
        try writer.execute("PRAGMA wal_autocheckpoint = \(options.walAutocheckpointPages)")
        try writer.execute("""
            CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL,
                create_index INTEGER NOT NULL, modify_index INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS changes (idx INTEGER PRIMARY KEY, body BLOB NOT NULL);
            """)
        let index = try Self.currentIndex(on: writer)
        state = Mutex((index, nil, false, 0))
        hub = ChangeFeedHub(latestIndex: index)
        writeQueue = BlockingQueue(label: "jaco.sqlite.writer")
    }

    func injectFault(_ fault: StorageFault) {
        state.withLock { $0.fault = fault }
    }

    // MARK: Reads

    func read<R: Sendable>(_ body: (any StorageSnapshot) async throws -> R) async throws -> R {
        let connection = try checkOutReader()
        defer { checkIn(connection) }
        try connection.execute("BEGIN")
        do {
            // The first read of the transaction fixes the WAL snapshot.
            let index = try Self.currentIndex(on: connection)
            let result = try await body(Snapshot(index: index, connection: connection))
            try connection.execute("COMMIT")
            return result
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    private func checkOutReader() throws(JacoError) -> SQLiteConnection {
        if state.withLock({ $0.closed }) { throw Self.closedError }
        if let pooled = readers.withLock({ $0.popLast() }) { return pooled }
        let connection = try SQLiteConnection(path: options.path.path, readOnly: true)
        try connection.execute("PRAGMA busy_timeout = \(options.busyTimeoutMilliseconds)")
        return connection
    }

    private func checkIn(_ connection: SQLiteConnection) {
        readers.withLock { pool in
            if pool.count < 8 { pool.append(connection) }
        }
    }

    private struct Snapshot: StorageSnapshot {
        let index: StoreIndex
        let connection: SQLiteConnection

        func get(_ key: String) async throws -> StoredValue? {
            try SQLiteStore.get(key, on: connection)
        }

        func scan(prefix: String, startingAfter: String?, limit: Int) async throws -> [StoredEntry] {
            // One plain range per shape, so SQLite seeks the primary key to the start of the
            // page (an `OR` between optional bounds made it scan from the prefix every page).
            let prefixBytes = Array(prefix.utf8)
            let after = startingAfter.map { Array($0.utf8) }.flatMap { $0.lexicographicallyPrecedes(prefixBytes) ? nil : $0 }
            let upper = KeyRange.upperBound(ofPrefix: prefixBytes)
            let statement = try connection.statement("""
                SELECT key, value, create_index, modify_index FROM kv
                WHERE key \(after == nil ? ">=" : ">") ?1\(upper == nil ? "" : " AND key < ?2")
                ORDER BY key LIMIT ?3
                """)
            statement.bind(1, after ?? prefixBytes)
            if let upper { statement.bind(2, upper) }
            statement.bind(3, Int64(min(limit, Int(Int64.max))))
            var entries: [StoredEntry] = []
            while try statement.step() {
                entries.append(StoredEntry(key: statement.string(0), value: StoredValue(
                    bytes: statement.data(1), createIndex: StoreIndex(statement.int64(2)), modifyIndex: StoreIndex(statement.int64(3)))))
            }
            return entries
        }

        func count(prefix: String) async throws -> Int? {
            let prefixBytes = Array(prefix.utf8)
            let upper = KeyRange.upperBound(ofPrefix: prefixBytes)
            let statement = try connection.statement("SELECT count(*) FROM kv WHERE key >= ?1\(upper == nil ? "" : " AND key < ?2")")
            // Reset at once: a statement left mid-result would pin this connection's read
            // transaction, and its later reads would not see newer commits.
            defer { statement.reset() }
            statement.bind(1, prefixBytes)
            if let upper { statement.bind(2, upper) }
            return try statement.step() ? Int(statement.int64(0)) : 0
        }
    }

    private static func currentIndex(on connection: SQLiteConnection) throws(JacoError) -> StoreIndex {
        let select = try connection.statement("SELECT coalesce(max(idx), 0) FROM changes")
        defer { select.reset() }
        return try select.step() ? StoreIndex(select.int64(0)) : 0
    }

    private static func get(_ key: String, on connection: SQLiteConnection) throws(JacoError) -> StoredValue? {
        let statement = try connection.statement("SELECT value, create_index, modify_index FROM kv WHERE key = ?1")
        statement.bind(1, key)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return StoredValue(bytes: statement.data(0), createIndex: StoreIndex(statement.int64(1)), modifyIndex: StoreIndex(statement.int64(2)))
    }

    // MARK: Writes

    func commit(_ transaction: Transaction) async throws -> StoreIndex {
        try await writeQueue.run { try self.commitOnWriter(transaction) }
    }

    private func commitOnWriter(_ transaction: Transaction) throws -> StoreIndex {
        let (current, fault, commits) = try state.withLock { s throws(JacoError) in
            if s.closed { throw Self.closedError }
            defer { s.fault = nil }
            return (s.index, s.fault, s.commits)
        }
        try writer.execute("BEGIN IMMEDIATE")
        do {
            for condition in transaction.conditions {
                try condition.check(against: try Self.get(condition.key, on: writer))
            }
            let index = current + 1
            var mutations: [Mutation] = []
            for (position, write) in transaction.writes.enumerated() {
                if let fault, fault.fires(afterWriting: position, of: transaction.writes.count) { throw fault.error }
                switch write {
                case .put(let key, let value):
                    let upsert = try writer.statement("""
                        INSERT INTO kv (key, value, create_index, modify_index) VALUES (?1, ?2, ?3, ?3)
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value, modify_index = excluded.modify_index
                        """)
                    upsert.bind(1, key)
                    upsert.bind(2, value)
                    upsert.bind(3, Int64(index))
                    try upsert.run()
                    mutations.append(Mutation(key: key, value: value))
                case .delete(let key):
                    let delete = try writer.statement("DELETE FROM kv WHERE key = ?1")
                    delete.bind(1, key)
                    try delete.run()
                    if writer.changes > 0 { mutations.append(Mutation(key: key, value: nil)) }
                }
            }
            if let fault, fault.fires(afterWriting: transaction.writes.count, of: transaction.writes.count) { throw fault.error }
            guard !mutations.isEmpty else {
                try writer.execute("ROLLBACK")
                return current
            }
            let log = try writer.statement("INSERT INTO changes (idx, body) VALUES (?1, ?2)")
            log.bind(1, Int64(index))
            log.bind(2, ChangeCodec.encode(mutations))
            try log.run()
            if commits % 256 == 0, index > StoreIndex(options.retainChanges) {
                let trim = try writer.statement("DELETE FROM changes WHERE idx <= ?1")
                trim.bind(1, Int64(index) - Int64(options.retainChanges))
                try trim.run()
            }
            try writer.execute("COMMIT")
            state.withLock {
                $0.index = index
                $0.commits += 1
            }
            hub.publish(Change(index: index, mutations: mutations))
            return index
        } catch {
            try? writer.execute("ROLLBACK")
            throw error
        }
    }

    // MARK: Change feed

    func changes(after index: StoreIndex) -> ChangeFeed {
        hub.feed(after: index) { [self] after, limit in
            let connection = try checkOutReader()
            defer { checkIn(connection) }
            let statement = try connection.statement("SELECT idx, body FROM changes WHERE idx > ?1 ORDER BY idx LIMIT ?2")
            statement.bind(1, Int64(after))
            statement.bind(2, Int64(limit))
            defer { statement.reset() }
            var changes: [Change] = []
            while try statement.step() {
                changes.append(Change(index: StoreIndex(statement.int64(0)), mutations: try ChangeCodec.decode(statement.data(1))))
            }
            if let first = changes.first, first.index != after + 1 {
                throw JacoError(.compacted, "changes after index \(after) are no longer retained (the log starts at \(first.index)); reload from a snapshot")
            }
            return changes
        }
    }

    func close() async throws {
        try await writeQueue.run { [self] in
            let wasClosed = state.withLock { s in
                defer { s.closed = true }
                return s.closed
            }
            hub.close()
            if !wasClosed { try writer.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        readers.withLock { $0.removeAll() }
    }

    private static let closedError = JacoError(.closed, "the SQLite store is closed")
}

/// Byte ranges over keys.
enum KeyRange {
    /// The smallest key greater than every key starting with `prefix`, or nil when there is none.
    static func upperBound(ofPrefix prefix: [UInt8]) -> [UInt8]? {
        var bound = prefix
        while let last = bound.last {
            if last < 0xFF {
                bound[bound.count - 1] = last + 1
                return bound
            }
            bound.removeLast()
        }
        return nil
    }
}
