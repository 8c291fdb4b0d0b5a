import CLMDB
import Foundation
import JacoKernel

/// Thin, throwing wrappers over the liblmdb C API.
enum LMDB {
    /// Turns an LMDB return code into a Jaco error: a full map, or a full disk under `path`, is
    /// `store_full`; a read-only one names the path.
    static func check(_ rc: Int32, _ context: @autoclosure () -> String, mapSize: Int, path: @autoclosure () -> String? = nil) throws(JacoError) {
        guard rc != MDB_SUCCESS else { return }
        if rc == MDB_MAP_FULL {
            throw JacoError(.storeFull, "the LMDB map is full (map_size = \(mapSize) bytes); raise [storage] map_size in the config and restart", cause: context())
        }
        let place = path().map { " '\($0)'" } ?? ""
        if rc == ENOSPC || rc == EDQUOT {
            throw JacoError(.storeFull, "the disk holding the LMDB environment\(place) is full: free disk space; writes resume by themselves", cause: context())
        }
        if rc == EROFS || rc == EACCES || rc == EPERM {
            throw JacoError(.storageFailure, "the LMDB environment\(place) cannot be written (\(String(cString: mdb_strerror(rc)))): is the disk read-only?", cause: context())
        }
        let message = String(cString: mdb_strerror(rc))
        throw JacoError(.storageFailure, "LMDB failed while \(context()): \(message)")
    }

    /// Calls `body` with an `MDB_val` pointing at `bytes` (valid only inside `body`).
    static func withValue<R>(_ bytes: some ContiguousBytes, _ body: (inout MDB_val) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { buffer in
            var value = MDB_val(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            return try body(&value)
        }
    }

    /// Copies the bytes an `MDB_val` points at.
    static func bytes(_ value: MDB_val) -> [UInt8] {
        guard value.mv_size > 0, let base = value.mv_data else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: value.mv_size))
    }

    /// A big-endian 8-byte key for the change log, so byte order is index order.
    static func indexKey(_ index: StoreIndex) -> [UInt8] {
        withUnsafeBytes(of: index.bigEndian) { Array($0) }
    }

    static func decodeIndex(_ bytes: some Collection<UInt8>) -> StoreIndex {
        bytes.prefix(8).reduce(0) { $0 << 8 | StoreIndex($1) }
    }

    /// A stored kv value: create index and modify index (8 bytes each, big-endian), then the value.
    static func encodeValue(_ value: Data, createIndex: StoreIndex, modifyIndex: StoreIndex) -> [UInt8] {
        var out = indexKey(createIndex) + indexKey(modifyIndex)
        out.append(contentsOf: value)
        return out
    }

    static func decodeValue(_ bytes: [UInt8], key: String) throws(JacoError) -> StoredValue {
        guard bytes.count >= 16 else { throw JacoError(.storageFailure, "the LMDB record for '\(key)' is truncated") }
        return StoredValue(bytes: Data(bytes[16...]), createIndex: decodeIndex(bytes[0..<8]), modifyIndex: decodeIndex(bytes[8..<16]))
    }
}
