import Foundation

/// Aligned text tables: columns padded to their widest cell, two spaces apart.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = widths(of: all)
        return all.map { line($0, widths: widths) }.joined(separator: "\n")
    }

    /// Each column's widest cell.
    static func widths(of rows: [[String]]) -> [Int] {
        guard let first = rows.first else { return [] }
        return first.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    }

    /// One row, each cell but the last padded to its column's width.
    static func line(_ row: [String], widths: [Int]) -> String {
        var line = ""
        append(row, widths: widths, to: &line)
        return line
    }

    /// Appends one row (no newline) to `out`: the cheap path for long listings.
    static func append(_ row: [String], widths: [Int], to out: inout String) {
        for (column, cell) in row.enumerated() {
            out += cell
            guard column < row.count - 1 else { break }
            let pad = widths[column] - cell.count
            out += String(repeating: " ", count: max(0, pad) + 2)
        }
    }
}

/// JSON text for CLI output, keys sorted so output is stable.
enum JSONText {
    static func array(_ objects: [[String: Any]]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
    }

    static func line(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// A table printed as its rows arrive: the column widths are measured on the first batch of
/// rows (the first page of a listing), then kept, so a long listing starts printing at once
/// and needs no memory for the rows already shown. A later cell wider than its column pushes
/// the rest of its own row right; the other rows stay aligned.
final class StreamingTable {
    private let header: [String]
    private var widths: [Int]?
    private var pending: [[String]] = []

    init(header: [String]) {
        self.header = header
    }

    /// Adds one row; the first `measure` rows are held to measure the widths, then printed.
    func add(_ row: [String], measure: Int = 100) {
        if widths != nil { return print([row]) }
        pending.append(row)
        if pending.count >= measure { flushPending() }
    }

    private func flushPending() {
        let rows = pending
        pending = []
        print(rows)
    }

    /// Prints `rows` in one write; the first call measures the widths (with the header) and
    /// prints it too.
    func print(_ rows: [[String]]) {
        var out = ""
        if widths == nil {
            widths = Table.widths(of: [header] + rows)
            Table.append(header, widths: widths!, to: &out)
            out += "\n"
        }
        for row in rows {
            Table.append(row, widths: widths!, to: &out)
            out += "\n"
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// Prints rows still held, or the header alone if no row came at all.
    func finish() {
        if widths == nil { flushPending() }
    }
}

/// A JSON array printed element by element: `[`, one compact object per line, `]`.
final class StreamingJSONArray {
    private var count = 0

    init() {
        FileHandle.standardOutput.write(Data("[\n".utf8))
    }

    func print(_ objects: [[String: Any]]) throws {
        var out = ""
        for object in objects {
            out += (count == 0 ? "" : ",\n") + (try JSONText.line(object))
            count += 1
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    func finish() {
        FileHandle.standardOutput.write(Data((count == 0 ? "]\n" : "\n]\n").utf8))
    }
}
