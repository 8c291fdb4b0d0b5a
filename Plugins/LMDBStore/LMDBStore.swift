import CLMDB
import Foundation
import JacoKernel
import Synchronization

/// Settings of the LMDB engine.
struct LMDBOptions: Sendable {
    var directory: URL
    var mapSize: Int = 1 << 30
    /// Flush to disk at every commit (default); false trades durability for speed.
    var sync: Bool = true
    var retainChanges: Int = 100_000
    var maxReaders: Int = 126
}

/// The LMDB engine: one environment with two databases — `kv` (values prefixed with their
/// create and modify index) and `log` (the retained change log, keyed by big-endian index; its
/// last key is the store index, and trimming always keeps it). Writes run on one queue; reads
/// use read-only transactions.
final class LMDBStore: Storage, FaultInjecting, @unchecked Sendable {
    // Invariants behind @unchecked Sendable: `env` and the DBIs are thread-safe in LMDB with
    // MDB_NOTLS; write transactions are only begun and ended on `writeQueue`.
    private let env: OpaquePointer
    private let kv: MDB_dbi
    private let log: MDB_dbi
    private let writeQueue = BlockingQueue(label: "jaco.lmdb.writer")
    private let state: Mutex<(index: StoreIndex, fault: StorageFault?, closed: Bool, commits: Int, activeReads: Int)>
    private let hub: ChangeFeedHub
    private let options: LMDBOptions

    init(options: LMDBOptions) throws {
        self.options = options
        let path = options.directory.path
        do {
            try FileManager.default.createDirectory(at: options.directory, withIntermediateDirectories: true)
        } catch {
            throw JacoError(.storageFailure, "cannot create the LMDB directory '\(path)': \(error.localizedDescription)")
        }
        var handle: OpaquePointer?
        try LMDB.check(mdb_env_create(&handle), "creating the environment", mapSize: options.mapSize)
        guard let env = handle else { throw JacoError(.storageFailure, "LMDB returned no environment") }
        do {
            try LMDB.check(mdb_env_set_mapsize(env, options.mapSize), "setting map_size", mapSize: options.mapSize)
            try LMDB.check(mdb_env_set_maxdbs(env, 4), "setting maxdbs", mapSize: options.mapSize)
            try LMDB.check(mdb_env_set_maxreaders(env, UInt32(options.maxReaders)), "setting max_readers", mapSize: options.mapSize)
            let flags = UInt32(MDB_NOTLS) | (options.sync ? 0 : UInt32(MDB_NOSYNC))
            try LMDB.check(mdb_env_open(env, path, flags, 0o600), "opening '\(path)'", mapSize: options.mapSize)
            var stale: Int32 = 0
            mdb_reader_check(env, &stale)  // clears reader slots left by killed processes
            var txn: OpaquePointer?
            try LMDB.check(mdb_txn_begin(env, nil, 0, &txn), "starting the setup transaction", mapSize: options.mapSize)
            var dbis: [MDB_dbi] = []
            for name in ["kv", "log"] {
                var dbi = MDB_dbi()
                let rc = mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi)
                if rc != MDB_SUCCESS { mdb_txn_abort(txn) }
                try LMDB.check(rc, "opening database '\(name)'", mapSize: options.mapSize)
                dbis.append(dbi)
            }
            (kv, log) = (dbis[0], dbis[1])
            let index = try Self.lastIndex(in: txn, log: log, mapSize: options.mapSize)
            try LMDB.check(mdb_txn_commit(txn), "committing the setup transaction", mapSize: options.mapSize)
            state = Mutex((index, nil, false, 0, 0))
            hub = ChangeFeedHub(latestIndex: index)
            self.env = env
        } catch {
            mdb_env_close(env)
            throw error
        }
    }

    func injectFault(_ fault: StorageFault) {
        state.withLock { $0.fault = fault }
    }

    private func check(_ rc: Int32, _ context: @autoclosure () -> String) throws(JacoError) {
        try LMDB.check(rc, context(), mapSize: options.mapSize, path: options.directory.path)
    }

    // MARK: Reads

    func read<R: Sendable>(_ body: (any StorageSnapshot) async throws -> R) async throws -> R {
        try state.withLock { s throws(JacoError) in
            if s.closed { throw Self.closedError }
            s.activeReads += 1
        }
        defer { state.withLock { $0.activeReads -= 1 } }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "starting a read transaction")
        defer { mdb_txn_abort(txn) }
        let snapshot = Snapshot(index: try currentIndex(in: txn), txn: txn, store: self)
        return try await body(snapshot)
    }

    private func currentIndex(in txn: OpaquePointer?) throws(JacoError) -> StoreIndex {
        try Self.lastIndex(in: txn, log: log, mapSize: options.mapSize)
    }

    /// The newest change log key, which is the store index (0 for an empty store).
    private static func lastIndex(in txn: OpaquePointer?, log: MDB_dbi, mapSize: Int) throws(JacoError) -> StoreIndex {
        var cursor: OpaquePointer?
        try LMDB.check(mdb_cursor_open(txn, log, &cursor), "opening a log cursor", mapSize: mapSize)
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        let rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST)
        if rc == MDB_NOTFOUND { return 0 }
        try LMDB.check(rc, "reading the store index", mapSize: mapSize)
        return LMDB.decodeIndex(LMDB.bytes(key))
    }

    private func get(_ key: [UInt8], in dbi: MDB_dbi, txn: OpaquePointer?) throws(JacoError) -> [UInt8]? {
        var value = MDB_val()
        let rc = LMDB.withValue(key) { key in mdb_get(txn, dbi, &key, &value) }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading a key")
        return LMDB.bytes(value)
    }

    fileprivate func getValue(_ key: String, txn: OpaquePointer?) throws(JacoError) -> StoredValue? {
        try get(Array(key.utf8), in: kv, txn: txn).map { bytes throws(JacoError) in try LMDB.decodeValue(bytes, key: key) }
    }

    fileprivate func scan(prefix: String, startingAfter: String?, limit: Int, txn: OpaquePointer?) throws(JacoError) -> [StoredEntry] {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, kv, &cursor), "opening a cursor")
        defer { mdb_cursor_close(cursor) }
        let prefixBytes = Array(prefix.utf8)
        var start = prefixBytes
        if let startingAfter, startingAfter.utf8.lexicographicallyPrecedes(prefixBytes) == false {
            start = Array(startingAfter.utf8) + [0]  // the smallest key after `startingAfter`
        }
        var entries: [StoredEntry] = []
        var key = MDB_val()
        var value = MDB_val()
        var rc = LMDB.withValue(start) { startKey in
            key = startKey
            return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
        while rc == MDB_SUCCESS, entries.count < limit {
            let keyBytes = LMDB.bytes(key)
            guard keyBytes.starts(with: prefixBytes) else { break }
            let keyString = String(decoding: keyBytes, as: UTF8.self)
            entries.append(StoredEntry(key: keyString, value: try LMDB.decodeValue(LMDB.bytes(value), key: keyString)))
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if rc != MDB_SUCCESS && rc != MDB_NOTFOUND { try check(rc, "scanning '\(prefix)'") }
        return entries
    }

    fileprivate func count(prefix: String, txn: OpaquePointer?) throws(JacoError) -> Int {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, kv, &cursor), "opening a cursor")
        defer { mdb_cursor_close(cursor) }
        let prefixBytes = Array(prefix.utf8)
        var key = MDB_val()
        var value = MDB_val()
        var rc = LMDB.withValue(prefixBytes) { startKey in
            key = startKey
            return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
        var count = 0
        while rc == MDB_SUCCESS {
            let keyBytes = UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)
            guard keyBytes.starts(with: prefixBytes) else { break }
            count += 1
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if rc != MDB_SUCCESS && rc != MDB_NOTFOUND { try check(rc, "counting '\(prefix)'") }
        return count
    }

    private struct Snapshot: StorageSnapshot {
        let index: StoreIndex
        let txn: OpaquePointer?
        let store: LMDBStore

        func get(_ key: String) async throws -> StoredValue? {
            try store.getValue(key, txn: txn)
        }

        func scan(prefix: String, startingAfter: String?, limit: Int) async throws -> [StoredEntry] {
            try store.scan(prefix: prefix, startingAfter: startingAfter, limit: limit, txn: txn)
        }

        func count(prefix: String) async throws -> Int? {
            try store.count(prefix: prefix, txn: txn)
        }
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
        let maxKey = Int(mdb_env_get_maxkeysize(env))
        for write in transaction.writes where write.key.utf8.count > maxKey || write.key.isEmpty {
            throw JacoError(.validationFailed, "key of \(write.key.utf8.count) bytes is outside LMDB's range (1 to \(maxKey) bytes)")
        }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "starting a write transaction")
        do {
            for condition in transaction.conditions {
                try condition.check(against: try getValue(condition.key, txn: txn))
            }
            let index = current + 1
            var mutations: [Mutation] = []
            for (position, write) in transaction.writes.enumerated() {
                if let fault, fault.fires(afterWriting: position, of: transaction.writes.count) { throw fault.error }
                switch write {
                case .put(let key, let value):
                    let createIndex = try getValue(key, txn: txn)?.createIndex ?? index
                    try put(Array(key.utf8), LMDB.encodeValue(value, createIndex: createIndex, modifyIndex: index), in: kv, txn: txn)
                    mutations.append(Mutation(key: key, value: value))
                case .delete(let key):
                    let rc = LMDB.withValue(Array(key.utf8)) { k in mdb_del(txn, kv, &k, nil) }
                    if rc != MDB_NOTFOUND {
                        try check(rc, "deleting '\(key)'")
                        mutations.append(Mutation(key: key, value: nil))
                    }
                }
            }
            if let fault, fault.fires(afterWriting: transaction.writes.count, of: transaction.writes.count) { throw fault.error }
            guard !mutations.isEmpty else {
                mdb_txn_abort(txn)
                return current
            }
            try put(LMDB.indexKey(index), Array(ChangeCodec.encode(mutations)), in: log, txn: txn)
            if commits % 256 == 0, index > StoreIndex(options.retainChanges) {
                try trimLog(through: index - StoreIndex(options.retainChanges), txn: txn)
            }
            let rc = mdb_txn_commit(txn)
            txn = nil  // commit frees the transaction, whether it succeeded or not
            try check(rc, "committing")
            state.withLock {
                $0.index = index
                $0.commits += 1
            }
            hub.publish(Change(index: index, mutations: mutations))
            return index
        } catch {
            if txn != nil { mdb_txn_abort(txn) }
            throw error
        }
    }

    private func put(_ key: [UInt8], _ value: [UInt8], in dbi: MDB_dbi, txn: OpaquePointer?) throws(JacoError) {
        let rc = LMDB.withValue(key) { k in LMDB.withValue(value) { v in mdb_put(txn, dbi, &k, &v, 0) } }
        try check(rc, "writing a key")
    }

    private func trimLog(through last: StoreIndex, txn: OpaquePointer?) throws(JacoError) {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, log, &cursor), "opening a log cursor")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
        while rc == MDB_SUCCESS, LMDB.decodeIndex(LMDB.bytes(key)) <= last {
            try check(mdb_cursor_del(cursor, 0), "trimming the change log")
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
    }

    // MARK: Change feed

    func changes(after index: StoreIndex) -> ChangeFeed {
        hub.feed(after: index) { [self] after, limit in
            try await read { _ in try self.loadChanges(after: after, limit: limit) }
        }
    }

    private func loadChanges(after: StoreIndex, limit: Int) throws -> [Change] {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "starting a read transaction")
        defer { mdb_txn_abort(txn) }
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, log, &cursor), "opening a log cursor")
        defer { mdb_cursor_close(cursor) }
        var changes: [Change] = []
        var key = MDB_val()
        var value = MDB_val()
        var rc = LMDB.withValue(LMDB.indexKey(after + 1)) { start in
            key = start
            return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
        while rc == MDB_SUCCESS, changes.count < limit {
            changes.append(Change(index: LMDB.decodeIndex(LMDB.bytes(key)), mutations: try ChangeCodec.decode(Data(LMDB.bytes(value)))))
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if let first = changes.first, first.index != after + 1 {
            throw JacoError(.compacted, "changes after index \(after) are no longer retained (the log starts at \(first.index)); reload from a snapshot")
        }
        return changes
    }

    func close() async throws {
        let alreadyClosed = try await writeQueue.run { [self] in
            let was = state.withLock { s in
                defer { s.closed = true }
                return s.closed
            }
            hub.close()
            return was
        }
        if alreadyClosed { return }
        // Let reads that already began finish before the environment goes away.
        while state.withLock({ $0.activeReads }) > 0 {
            try await Task.sleep(for: .milliseconds(1))
        }
        mdb_env_close(env)
    }

    private static let closedError = JacoError(.closed, "the LMDB store is closed")
}
