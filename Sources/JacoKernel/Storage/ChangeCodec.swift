import Foundation

/// The binary form of a change's mutations, shared by engines that keep a durable change log.
///
/// Layout: count (u32), then per mutation: key length (u32), key bytes, kind (u8: 1 put,
/// 0 delete), and for a put the value length (u32) and value bytes. Integers are big-endian.
public enum ChangeCodec {
    /// Encodes mutations.
    public static func encode(_ mutations: [Mutation]) -> Data {
        var out = Data()
        out.reserveCapacity(mutations.reduce(4) { $0 + 9 + $1.key.utf8.count + ($1.value?.count ?? 0) })
        append(UInt32(mutations.count), to: &out)
        for mutation in mutations {
            append(UInt32(mutation.key.utf8.count), to: &out)
            out.append(contentsOf: mutation.key.utf8)
            if let value = mutation.value {
                out.append(1)
                append(UInt32(value.count), to: &out)
                out.append(value)
            } else {
                out.append(0)
            }
        }
        return out
    }

    /// Decodes mutations, throwing `storage_failure` on truncated or corrupt input.
    public static func decode(_ data: Data) throws(JacoError) -> [Mutation] {
        var reader = Reader(bytes: [UInt8](data))
        let count = try reader.u32()
        var mutations: [Mutation] = []
        mutations.reserveCapacity(Int(min(count, 4096)))
        for _ in 0..<count {
            let key = String(decoding: try reader.bytes(Int(try reader.u32())), as: UTF8.self)
            switch try reader.byte() {
            case 1: mutations.append(Mutation(key: key, value: Data(try reader.bytes(Int(try reader.u32())))))
            case 0: mutations.append(Mutation(key: key, value: nil))
            default: throw Reader.corrupt
            }
        }
        return mutations
    }

    private static func append(_ value: UInt32, to data: inout Data) {
        withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) }
    }

    private struct Reader {
        static let corrupt = JacoError(.storageFailure, "change log entry is truncated or corrupt")
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() throws(JacoError) -> UInt8 { try self.bytes(1).first! }

        mutating func u32() throws(JacoError) -> UInt32 {
            try self.bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func bytes(_ n: Int) throws(JacoError) -> ArraySlice<UInt8> {
            guard n >= 0, offset + n <= bytes.count else { throw Self.corrupt }
            defer { offset += n }
            return bytes[offset..<offset + n]
        }
    }
}
