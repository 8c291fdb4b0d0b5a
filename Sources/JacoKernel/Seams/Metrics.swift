import CoreMetrics

/// The metrics seam: a backend gives the kernel a swift-metrics factory to record through and
/// renders what was recorded when a scraper asks. The daemon makes one per process and hands
/// it in (no global bootstrap).
public protocol MetricsExporter: Sendable {
    /// Where the kernel's and the transports' metrics are made.
    var factory: any MetricsFactory { get }
    /// The HTTP content type of ``render()``'s output.
    var contentType: String { get }
    /// Everything recorded so far, in the backend's exposition format.
    func render() -> [UInt8]
}
