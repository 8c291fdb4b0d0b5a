import ClusterTLS
import Foundation
import JacoKernel
import JacoNIOSSL
import Logging
import ServiceLifecycle
import UnixSignals

/// Keeps the daemon's certificates current while it runs: reloads the served certificate when
/// its files change (polled) or on SIGHUP, renews a server certificate the cluster CA signed
/// when a third of its life remains, and warns 30 and 7 days before any certificate it uses
/// expires. Open connections keep the certificate they started with.
struct CertificateMaintenance: Service {
    let certificates: DaemonCertificates
    let logger: Logger
    /// How often the files are checked for changes.
    var pollInterval: Duration = .seconds(5)
    /// How often renewal and expiry are checked (also once at start).
    var dailyInterval: Duration = .seconds(86_400)

    func run() async throws {
        do {
            try await watch()
        } catch is CancellationError {
            // Shutting down.
        }
    }

    private func watch() async throws {
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) { reload(force: true, reason: "SIGHUP") }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: pollInterval)
                        reload(force: false, reason: "files changed")
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: dailyInterval)
                        checkLifetimes()
                    }
                }
            }
        }
    }

    /// Renews the server certificate if due and warns about expiring ones; run at start, before
    /// listeners load the files, and daily.
    func checkLifetimes(now: Date = Date()) {
        if let directory = certificates.authorityDirectory {
            do {
                switch try ServerCertificateRenewal.renewIfDue(in: directory, now: now) {
                case .renewed(let notAfter, let previous):
                    logger.notice("renewed the server certificate from the cluster CA", metadata: [
                        "cert": "\(certificates.files.certificateChain.path)", "not-after": "\(notAfter.rfc3339)",
                        "previous-not-after": "\(previous.rfc3339)",
                    ])
                    reload(force: false, reason: "renewed")
                case .current, .notManaged: break
                }
            } catch {
                logger.error("cannot renew the server certificate: \(error)", metadata: ["dir": "\(directory.path)"])
            }
        }
        for summary in certificates.inventory() {
            let days = Int(summary.notAfter.timeIntervalSince(now) / 86_400)
            let metadata: Logger.Metadata = ["role": "\(summary.role)", "cert": "\(summary.path)", "not-after": "\(summary.notAfter.rfc3339)"]
            if summary.notAfter <= now {
                logger.error("the \(summary.role) certificate has expired; replace it, then send SIGHUP", metadata: metadata)
            } else if days < 7 {
                logger.warning("the \(summary.role) certificate expires in \(days) days (less than 7); replace it, then send SIGHUP", metadata: metadata)
            } else if days < 30 {
                logger.warning("the \(summary.role) certificate expires in \(days) days (less than 30)", metadata: metadata)
            }
        }
    }

    private func reload(force: Bool, reason: String) {
        for (files, outcome) in ServingCertificate.reloadAll(force: force) {
            switch outcome {
            case .success(true):
                let expiry = CertificateFiles.summary(role: "server", path: files.certificateChain.path).map { $0.notAfter.rfc3339 } ?? "?"
                logger.notice("reloaded the TLS certificate (\(reason)); new connections use it", metadata: [
                    "cert": "\(files.certificateChain.path)", "not-after": "\(expiry)",
                ])
            case .success(false): break
            case .failure(let error):
                logger.error("cannot reload the TLS certificate (\(reason)); still serving the previous one: \(error.message)", metadata: [
                    "cert": "\(files.certificateChain.path)",
                ])
            }
        }
    }
}
