import ArgumentParser
import Foundation
import GRPCTransport
import JacoKernel

/// `jaco audit [--since] [--type] [-f] [-o]` and `jaco audit verify`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show the audit log, or check its hash chain.",
        subcommands: [Show.self, Verify.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show audit events, oldest first.",
            discussion: "Events are printed as they arrive; table column widths are measured on the first 100 events. -o json prints one JSON array, one event per line.")
        @Option(help: "Only events from this long ago on, e.g. 30s, 15m, 2h, 7d.") var since: String?
        @Option(help: "Only these event types, comma-separated.") var type: String?
        @Flag(name: .shortAndLong, help: "Keep streaming new events as they commit (NDJSON).") var follow = false
        @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let sinceDate = try since.map { Date().addingTimeInterval(-(try Duration.seconds(parsing: $0, flag: "--since"))) }
                let types = type.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
                let client = try connection.client()
                if follow {
                    try await client.audit(since: sinceDate, types: types, follow: true) { event in
                        print(try JSONText.line(Self.json(event)))
                        fflush(nil)
                    }
                    return
                }
                // Printed as the events arrive (table widths measured on the first 100 rows).
                let printer = AuditPrinter(output: output)
                try await client.audit(since: sinceDate, types: types, follow: false) { try printer.add($0) }
                printer.finish()
            }
        }

        static func json(_ event: Jaco_V1_AuditEvent) -> [String: Any] {
            ["sequence": event.sequence, "type": event.type, "ts": event.date.rfc3339, "identity": event.identity, "payload": event.payload, "hash": event.hash, "previous_hash": event.previousHash]
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Walk the audit hash chain; exit 1 naming the first broken link.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingErrors {
                let report = try await connection.client().verifyAuditChain()
                guard report.intact else {
                    throw JacoError(.auditChainBroken, "event \(report.brokenSequence): \(report.reason) (\(report.checked) events before it check out)")
                }
                print("Audit chain intact: \(report.checked) events checked")
            }
        }
    }
}

/// Prints audit events as the stream delivers them, as a table or one JSON array. The stream
/// calls it from one task at a time; the lock only satisfies Sendable.
final class AuditPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private let table: StreamingTable?
    private let json: StreamingJSONArray?

    init(output: OutputFormat) {
        table = output == .table ? StreamingTable(header: ["TYPE", "TS", "IDENTITY", "PAYLOAD"]) : nil
        json = output == .json ? StreamingJSONArray() : nil
    }

    func add(_ event: Jaco_V1_AuditEvent) throws {
        try lock.withLock {
            if let json { try json.print([AuditCommand.Show.json(event)]) }
            table?.add([event.type, event.date.rfc3339, event.identity, event.payload.keys.sorted().map { "\($0)=\(event.payload[$0]!)" }.joined(separator: " ")])
        }
    }

    func finish() {
        lock.withLock {
            json?.finish()
            table?.finish()
        }
    }
}

extension Duration {
    /// Seconds in a duration such as `90s`, `15m`, `1h30m`, `7d` (Go-style, plus days).
    static func seconds(parsing text: String, flag: String) throws(JacoError) -> TimeInterval {
        guard let seconds = DurationText.parse(text) else {
            throw JacoError(.validationFailed, "\(flag) '\(text)' is not a duration; write e.g. 30s, 15m, 1h30m or 7d")
        }
        return seconds
    }
}
