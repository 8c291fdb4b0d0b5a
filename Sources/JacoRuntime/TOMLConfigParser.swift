import JacoKernel
import TOMLKit

/// Parses TOML text into format-independent config values.
enum TOMLConfigParser {
    /// The top-level table of `text`; errors name `source` and the line and column.
    static func parse(_ text: String, source: String) throws(JacoError) -> [String: ConfigValue] {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw JacoError(.configInvalid, "\(source):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw JacoError(.configInvalid, "\(source): not valid TOML: \(error)")
        }
        return convert(table)
    }

    private static func convert(_ table: TOMLTable) -> [String: ConfigValue] {
        var values: [String: ConfigValue] = [:]
        for key in table.keys {
            if let value = table[key] { values[key] = convert(value) }
        }
        return values
    }

    private static func convert(_ value: any TOMLValueConvertible) -> ConfigValue {
        switch value.type {
        case .table: return .table(value.table.map(convert) ?? [:])
        case .array: return .array(value.array.map { $0.map(convert) } ?? [])
        case .string: return .string(value.string ?? "")
        case .int: return .integer(value.int ?? 0)
        case .double: return .double(value.double ?? 0)
        case .bool: return .bool(value.bool ?? false)
        case .date, .time, .dateTime: return .string(value.tomlValue.debugDescription)
        }
    }
}
