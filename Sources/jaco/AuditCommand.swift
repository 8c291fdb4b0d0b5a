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
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show audit events, oldest first.")
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
                let collected = Collected()
                try await client.audit(since: sinceDate, types: types, follow: false) { collected.append($0) }
                let events = collected.events
                switch output {
                case .table:
                    print(Table.render(header: ["TYPE", "TS", "IDENTITY", "PAYLOAD"], rows: events.map { event in
                        [event.type, rfc3339(event.timeMs), event.identity, event.payload.keys.sorted().map { "\($0)=\(event.payload[$0]!)" }.joined(separator: " ")]
                    }))
                case .json:
                    print(try JSONText.array(events.map(Self.json)))
                }
            }
        }

        static func json(_ event: Jaco_V1_AuditEvent) -> [String: Any] {
            ["sequence": event.sequence, "type": event.type, "ts": rfc3339(event.timeMs), "identity": event.identity, "payload": event.payload, "hash": event.hash, "previous_hash": event.previousHash]
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

/// Events gathered from the stream callback.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Jaco_V1_AuditEvent] = []
    func append(_ event: Jaco_V1_AuditEvent) { lock.withLock { list.append(event) } }
    var events: [Jaco_V1_AuditEvent] { lock.withLock { list } }
}

extension Duration {
    /// Seconds in a duration such as `90s`, `15m`, `2h`, `7d`.
    static func seconds(parsing text: String, flag: String) throws(JacoError) -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value >= 0 else {
            throw JacoError(.validationFailed, "\(flag) '\(text)' is not a duration; write e.g. 30s, 15m, 2h or 7d")
        }
        return value * factor
    }
}
