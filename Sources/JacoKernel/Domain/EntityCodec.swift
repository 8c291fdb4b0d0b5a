import Foundation

/// Encodes kernel entities for the store (JSON, dates as milliseconds since 1970).
enum EntityCodec {
    static func encode(_ value: some Encodable) throws(JacoError) -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        do { return try encoder.encode(value) } catch {
            throw JacoError(.storageFailure, "could not encode \(type(of: value))", cause: "\(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, key: String) throws(JacoError) -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        do { return try decoder.decode(type, from: data) } catch {
            throw JacoError(.storageFailure, "stored record at '\(key)' is not a valid \(type)", cause: "\(error)")
        }
    }
}

/// The newest audit event's position, kept under `KeySpace.auditHead`.
struct AuditHead: Codable {
    var sequence: UInt64
    var hash: Digest256
}

extension Date {
    /// Now, truncated to whole milliseconds (what the store keeps).
    public static func nowMilliseconds() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
