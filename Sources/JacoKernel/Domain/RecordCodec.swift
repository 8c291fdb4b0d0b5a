import Foundation

/// A compact binary form for kernel records: a version byte, then the fields in a fixed order.
/// Integers are big-endian; strings and lists are length-prefixed; dates are milliseconds since
/// 1970. A newer version may append fields; readers of an older version ignore what follows.
struct RecordWriter {
    private(set) var bytes: [UInt8] = []

    init(version: UInt8) {
        bytes.reserveCapacity(256)
        bytes.append(version)
    }

    mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func write(_ value: String) {
        write(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    mutating func write(_ value: String?) {
        write(value != nil)
        if let value { write(value) }
    }

    mutating func write(_ value: Date) {
        write(UInt64(bitPattern: value.milliseconds))
    }

    mutating func write(_ value: Date?) {
        write(value != nil)
        if let value { write(value) }
    }

    mutating func write(_ value: Digest256) { bytes.append(contentsOf: value.bytes) }

    mutating func write(_ values: [String]) {
        write(UInt64(values.count))
        for value in values { write(value) }
    }

    mutating func write(_ identities: [ServiceIdentity]) {
        write(UInt64(identities.count))
        for identity in identities {
            write(identity.serviceName)
            write(identity.datacenters)
        }
    }

    mutating func write(_ map: [String: String]) {
        write(UInt64(map.count))
        for key in map.keys.sorted() {
            write(key)
            write(map[key]!)
        }
    }

    var data: Data { Data(bytes) }
}

/// Reads what ``RecordWriter`` wrote; every read is bounds-checked. The bytes are copied once
/// (one `memcpy`; reading through `Data` field by field was slower) and read in place, with no
/// slice per field: a cache load decodes a million records.
struct RecordReader {
    private let bytes: [UInt8]
    private var offset = 1
    /// The record's format version.
    let version: UInt8
    private let key: String

    init(_ data: Data, key: String) throws(JacoError) {
        bytes = data.withUnsafeBytes { [UInt8]($0) }
        self.key = key
        guard let version = bytes.first else { throw JacoError(.storageFailure, "the record at '\(key)' is empty") }
        self.version = version
    }

    /// Calls `body` with the next `count` bytes and moves past them.
    private mutating func take<Result>(_ count: Int, _ body: (UnsafeRawBufferPointer) -> Result) throws(JacoError) -> Result {
        guard count >= 0, count <= bytes.count - offset else {
            throw JacoError(.storageFailure, "the record at '\(key)' is truncated or corrupt")
        }
        defer { offset += count }
        let start = offset
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<start + count])) }
    }

    mutating func uint64() throws(JacoError) -> UInt64 {
        try take(8) { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    mutating func bool() throws(JacoError) -> Bool { try take(1) { $0[0] != 0 } }

    mutating func string() throws(JacoError) -> String {
        let count = try uint64()
        guard count <= UInt64(bytes.count) else { throw JacoError(.storageFailure, "the record at '\(key)' is corrupt") }
        return try take(Int(count)) { String(decoding: $0.assumingMemoryBound(to: UInt8.self), as: UTF8.self) }
    }

    /// An accessor ID string, packed without making a string when it is a lowercase UUID.
    mutating func accessorID() throws(JacoError) -> AccessorID {
        let count = try uint64()
        guard count <= UInt64(bytes.count) else { throw JacoError(.storageFailure, "the record at '\(key)' is corrupt") }
        return try take(Int(count)) { AccessorID(utf8: $0) }
    }

    /// Moves past a string without making it.
    mutating func skipString() throws(JacoError) {
        let count = try uint64()
        guard count <= UInt64(bytes.count) else { throw JacoError(.storageFailure, "the record at '\(key)' is corrupt") }
        try take(Int(count)) { _ in }
    }

    /// Moves past a list of strings without making them.
    mutating func skipStrings() throws(JacoError) {
        let count = try uint64()
        guard count <= UInt64(bytes.count) else { throw JacoError(.storageFailure, "the record at '\(key)' is corrupt") }
        for _ in 0..<count { try skipString() }
    }

    /// A list of strings; `previous`'s list when its bytes are the same as the last list read
    /// with it (tokens loaded one after another mostly link the same policies: no new strings).
    mutating func strings(reusing previous: inout StringListMemo) throws(JacoError) -> [String] {
        let start = offset
        var probe = self
        try probe.skipStrings()
        let end = probe.offset
        let same = end - start == previous.bytes.count && bytes.withUnsafeBytes { raw in
            previous.bytes.withUnsafeBytes { memcmp(raw.baseAddress! + start, $0.baseAddress!, end - start) == 0 }
        }
        if same {
            offset = end
            return previous.list
        }
        let list = try strings()
        previous = StringListMemo(bytes: Array(bytes[start..<end]), list: list)
        return list
    }

    /// Moves past a list of service identities without making them.
    mutating func skipServiceIdentities() throws(JacoError) {
        let count = try uint64()
        guard count <= UInt64(bytes.count) else { throw JacoError(.storageFailure, "the record at '\(key)' is corrupt") }
        for _ in 0..<count {
            try skipString()
            try skipStrings()
        }
    }

    mutating func optionalString() throws(JacoError) -> String? {
        try bool() ? try string() : nil
    }

    mutating func date() throws(JacoError) -> Date {
        Date(milliseconds: Int64(bitPattern: try uint64()))
    }

    mutating func optionalDate() throws(JacoError) -> Date? {
        try bool() ? try date() : nil
    }

    mutating func digest() throws(JacoError) -> Digest256 {
        try take(32) { Digest256(bytes: $0) }
    }

    mutating func strings() throws(JacoError) -> [String] {
        let count = try uint64()
        guard count <= UInt64(bytes.count) else { throw JacoError(.storageFailure, "the record at '\(key)' is corrupt") }
        var values: [String] = []
        for _ in 0..<count { values.append(try string()) }
        return values
    }

    mutating func serviceIdentities() throws(JacoError) -> [ServiceIdentity] {
        let count = try uint64()
        guard count <= UInt64(bytes.count) else { throw JacoError(.storageFailure, "the record at '\(key)' is corrupt") }
        var values: [ServiceIdentity] = []
        for _ in 0..<count { values.append(ServiceIdentity(serviceName: try string(), datacenters: try strings())) }
        return values
    }

    mutating func map() throws(JacoError) -> [String: String] {
        let count = try uint64()
        guard count <= UInt64(bytes.count) else { throw JacoError(.storageFailure, "the record at '\(key)' is corrupt") }
        var map: [String: String] = [:]
        for _ in 0..<count {
            let key = try string()
            map[key] = try string()
        }
        return map
    }
}

/// The last list of strings a ``RecordReader`` read with ``RecordReader/strings(reusing:)``: its
/// bytes and the list made from them.
struct StringListMemo {
    var bytes: [UInt8] = []
    var list: [String] = []
}

/// A kernel record with a binary form.
protocol StoredRecord {
    /// Writes the record.
    func encode() -> Data
    /// Reads a record stored at `key`.
    init(decoding data: Data, key: String) throws(JacoError)
}

extension Token: StoredRecord {
    func encode() -> Data {
        var w = RecordWriter(version: 3)
        w.write(accessorID)
        w.write(identity)
        w.write(secretDigest)
        w.write(description)
        w.write(policyIDs)
        w.write(roleIDs)
        w.write(allowsPrivileged)
        w.write(local)
        w.write(namespace)
        w.write(issuedAt)
        w.write(expirationTime)
        w.write(revokedAt)
        // Version 2: service identities and auth method.
        w.write(serviceIdentities)
        w.write(authMethod)
        // Version 3: the rotation in its grace window.
        w.write(rotation != nil)
        if let rotation {
            w.write(rotation.previousDigest)
            w.write(rotation.rotatedAt)
            w.write(rotation.graceEndsAt)
        }
        return w.data
    }

    package init(decoding data: Data, key: String) throws(JacoError) {
        var r = try RecordReader(data, key: key)
        self.init(
            accessorID: try r.string(), identity: try r.optionalString(), secretDigest: try r.digest(),
            description: try r.string(), policyIDs: try r.strings(), roleIDs: try r.strings(),
            allowsPrivileged: try r.bool(), local: try r.bool(), namespace: try r.string(), issuedAt: try r.date(),
            expirationTime: try r.optionalDate(), revokedAt: try r.optionalDate())
        if r.version >= 2 {
            serviceIdentities = try r.serviceIdentities()
            authMethod = try r.string()
        }
        if r.version >= 3, try r.bool() {
            rotation = Rotation(previousDigest: try r.digest(), rotatedAt: try r.date(), graceEndsAt: try r.date())
        }
    }
}

extension AuditEvent: StoredRecord {
    func encode() -> Data {
        var w = RecordWriter(version: 1)
        w.write(sequence)
        w.write(time)
        w.write(identity)
        w.write(type)
        w.write(payload)
        w.write(previousHash)
        w.write(hash)
        return w.data
    }

    package init(decoding data: Data, key: String) throws(JacoError) {
        var r = try RecordReader(data, key: key)
        self.init(
            sequence: try r.uint64(), time: try r.date(), identity: try r.string(), type: try r.string(),
            payload: try r.map(), previousHash: try r.digest(), hash: try r.digest())
    }
}

extension AuditHead: StoredRecord {
    func encode() -> Data {
        var w = RecordWriter(version: 1)
        w.write(sequence)
        w.write(hash)
        return w.data
    }

    package init(decoding data: Data, key: String) throws(JacoError) {
        var r = try RecordReader(data, key: key)
        self.init(sequence: try r.uint64(), hash: try r.digest())
    }
}
