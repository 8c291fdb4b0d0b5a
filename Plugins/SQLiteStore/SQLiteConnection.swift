import CSQLite
import Foundation
import JacoKernel

/// `SQLITE_TRANSIENT`, which Swift cannot import: SQLite copies bound bytes before returning.
private let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// One SQLite connection with a cache of prepared statements. Not thread-safe: one user at a
/// time (the store hands the writer to its queue and each reader to one task).
final class SQLiteConnection: @unchecked Sendable {  // one user at a time, enforced by SQLiteStore
    private let db: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]
    let path: String

    init(path: String, readOnly: Bool) throws(JacoError) {
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw JacoError(.storageFailure, "cannot open the SQLite database '\(path)': \(message)")
        }
        self.db = handle
        self.path = path
    }

    deinit {
        statements.removeAll()  // finalizes every statement before the connection closes
        sqlite3_close_v2(db)
    }

    /// Runs SQL without results.
    func execute(_ sql: String) throws(JacoError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(message)
            throw error(rc, text, while: sql)
        }
    }

    /// A cached prepared statement, reset and ready to bind.
    func statement(_ sql: String) throws(JacoError) -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var handle: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard rc == SQLITE_OK, let handle else { throw error(rc, lastMessage, while: sql) }
        let statement = SQLiteStatement(handle: handle, connection: self)
        statements[sql] = statement
        return statement
    }

    /// Rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes(db)) }

    var lastMessage: String { String(cString: sqlite3_errmsg(db)) }

    /// Maps an SQLite result code to a Jaco error: a full disk is `store_full`.
    func error(_ rc: Int32, _ message: String, while context: String) -> JacoError {
        if rc & 0xFF == SQLITE_FULL {
            return JacoError(.storeFull, "the SQLite database '\(path)' is full: free disk space or raise the limit; writes resume by themselves", cause: message)
        }
        if rc & 0xFF == SQLITE_READONLY {
            return JacoError(.storageFailure, "the SQLite database '\(path)' cannot be written (\(message)): is the disk read-only?", cause: context)
        }
        return JacoError(.storageFailure, "SQLite failed on '\(path)': \(message)", cause: context)
    }
}

/// A prepared statement: bind, step, read columns.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func bind(_ position: Int32, _ bytes: some ContiguousBytes) {
        _ = bytes.withUnsafeBytes { buffer in
            // An empty blob must still be a blob, not NULL: bind a zero-length blob explicitly.
            if buffer.isEmpty {
                sqlite3_bind_zeroblob(handle, position, 0)
            } else {
                sqlite3_bind_blob(handle, position, buffer.baseAddress, Int32(buffer.count), SQLITE_TRANSIENT)
            }
        }
    }

    func bind(_ position: Int32, _ text: String) {
        bind(position, Array(text.utf8))
    }

    func bind(_ position: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, position, value)
    }

    /// Advances; true while a row is available.
    func step() throws(JacoError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(rc, connection.lastMessage, while: String(cString: sqlite3_sql(handle)))
        }
    }

    /// Steps to completion, ignoring rows.
    func run() throws(JacoError) {
        while try step() {}
    }

    func data(_ column: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let base = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: base, count: count)
    }

    func string(_ column: Int32) -> String {
        String(decoding: data(column), as: UTF8.self)
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }
}
