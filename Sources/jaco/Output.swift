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
        row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
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

    /// Prints `rows`; the first call measures the widths (with the header) and prints it too.
    func print(_ rows: [[String]]) {
        if widths == nil {
            widths = Table.widths(of: [header] + rows)
            Swift.print(Table.line(header, widths: widths!))
        }
        for row in rows { Swift.print(Table.line(row, widths: widths!)) }
        fflush(nil)
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
        Swift.print("[")
    }

    func print(_ objects: [[String: Any]]) throws {
        for object in objects {
            Swift.print((count == 0 ? "" : ",\n") + (try JSONText.line(object)), terminator: "")
            count += 1
        }
        fflush(nil)
    }

    func finish() {
        Swift.print(count == 0 ? "]" : "\n]")
    }
}
