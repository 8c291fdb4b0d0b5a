import Foundation

/// The snapshot file format (version 1), written and read in one pass:
///
/// ```
/// "JACOSNAP"                       8 bytes, the magic
/// u32 big-endian n, n bytes        the header, JSON (``SnapshotHeader``)
/// per record: 0x01, u32 key length, key (UTF-8), u32 value length, value
/// 0x00, u64 big-endian             the end, and the number of records
/// 32 bytes                         the checksum: SHA-256 over the SHA-256 of each 64 KiB block
///                                  of everything before it
/// ```
///
/// Records are store keys and values as the kernel encodes them: token digests, never secrets.
/// The cluster CA's key (`m/cluster-ca`) is left out, and the HMAC key is never in the store.
public enum SnapshotFile {
    static let magic = Array("JACOSNAP".utf8)
    static let blockSize = 64 * 1024
    /// Keys a snapshot never carries: the cluster CA and its private key.
    static let excludedKeys: Set<String> = [KeySpace.clusterCA]

    /// Builds a file incrementally, handing out finished bytes in chunks.
    struct Writer {
        private let hasher: any SecretHasher
        private var pending: [UInt8] = []
        private var blockHashes: [UInt8] = []
        private var unhashed: [UInt8] = []
        private(set) var records = 0

        init(header: SnapshotHeader, hasher: any SecretHasher) throws {
            self.hasher = hasher
            let json = try JSONEncoder.sortedKeys.encode(header)
            append(SnapshotFile.magic)
            append(UInt32(json.count).bigEndianBytes)
            append(Array(json))
        }

        mutating func add(key: String, value: Data) {
            append([1])
            append(UInt32(key.utf8.count).bigEndianBytes)
            append(Array(key.utf8))
            append(UInt32(value.count).bigEndianBytes)
            append(Array(value))
            records += 1
        }

        /// Bytes ready to send (clears them).
        mutating func take() -> Data {
            defer { pending.removeAll(keepingCapacity: true) }
            return Data(pending)
        }

        /// The end marker and the checksum; then ``take()`` returns the rest.
        mutating func finish() {
            append([0])
            append(UInt64(records).bigEndianBytes)
            if !unhashed.isEmpty { blockHashes += hash(unhashed).bytes }
            pending += hash(blockHashes).bytes
        }

        var pendingCount: Int { pending.count }

        private mutating func append(_ bytes: [UInt8]) {
            pending += bytes
            unhashed += bytes
            while unhashed.count >= SnapshotFile.blockSize {
                blockHashes += hash(Array(unhashed.prefix(SnapshotFile.blockSize))).bytes
                unhashed.removeFirst(SnapshotFile.blockSize)
            }
        }

        private func hash(_ bytes: [UInt8]) -> Digest256 { bytes.withUnsafeBytes { hasher.contentHash($0) } }
    }

    /// A whole file, checked: magic, checksum, version, structure. Fails `validation_failed`
    /// naming what is wrong; nothing is trusted before the checksum matched.
    public static func read(_ data: Data, hasher: any SecretHasher) throws(JacoError) -> (header: SnapshotHeader, records: [(key: String, value: Data)]) {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else {
            throw JacoError(.validationFailed, "this is not a Jaco snapshot (no JACOSNAP header); was it made by 'jaco snapshot save'?")
        }
        guard bytes.count >= magic.count + 4 + 1 + 8 + 32 else {
            throw JacoError(.validationFailed, "the snapshot is truncated (\(bytes.count) bytes); save it again")
        }
        let body = bytes[..<(bytes.count - 32)]
        var blockHashes: [UInt8] = []
        var start = body.startIndex
        while start < body.endIndex {
            let end = min(start + blockSize, body.endIndex)
            blockHashes += Array(body[start..<end]).withUnsafeBytes { hasher.contentHash($0) }.bytes
            start = end
        }
        let checksum = blockHashes.withUnsafeBytes { hasher.contentHash($0) }
        guard checksum.bytes == Array(bytes.suffix(32)) else {
            throw JacoError(.validationFailed, "the snapshot's checksum does not match: the file is damaged or truncated; nothing was restored")
        }
        var reader = ByteReader(bytes: Array(body), offset: magic.count)
        let headerLength = Int(try reader.uint32())
        let header: SnapshotHeader
        do { header = try JSONDecoder().decode(SnapshotHeader.self, from: Data(try reader.take(headerLength))) } catch let error as JacoError {
            throw error
        } catch {
            throw JacoError(.validationFailed, "the snapshot's header is not valid: \(error)")
        }
        guard header.format <= SnapshotHeader.currentFormat else {
            throw JacoError(.validationFailed, "the snapshot has format version \(header.format); this Jaco reads up to \(SnapshotHeader.currentFormat): upgrade jaco and jacod")
        }
        var records: [(key: String, value: Data)] = []
        records.reserveCapacity(header.records)
        while true {
            let tag = try reader.take(1).first!
            if tag == 0 { break }
            guard tag == 1 else { throw JacoError(.validationFailed, "the snapshot has an unknown record tag \(tag)") }
            let key = String(decoding: try reader.take(Int(try reader.uint32())), as: UTF8.self)
            let value = Data(try reader.take(Int(try reader.uint32())))
            records.append((key, value))
        }
        let count = try reader.uint64()
        guard count == records.count, count == header.records, reader.atEnd else {
            throw JacoError(.validationFailed, "the snapshot's record count does not add up (\(records.count) read, \(count) at the end, \(header.records) in the header)")
        }
        return (header, records)
    }

    private struct ByteReader {
        let bytes: [UInt8]
        var offset: Int
        var atEnd: Bool { offset == bytes.count }

        mutating func take(_ count: Int) throws(JacoError) -> ArraySlice<UInt8> {
            guard count >= 0, offset + count <= bytes.count else {
                throw JacoError(.validationFailed, "the snapshot ends in the middle of a record; it is truncated")
            }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }

        mutating func uint32() throws(JacoError) -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
        mutating func uint64() throws(JacoError) -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    }
}

extension FixedWidthInteger {
    var bigEndianBytes: [UInt8] { withUnsafeBytes(of: self.bigEndian) { Array($0) } }
}

extension JSONEncoder {
    /// Sorted keys, one line: stable output for files and tools.
    public static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
