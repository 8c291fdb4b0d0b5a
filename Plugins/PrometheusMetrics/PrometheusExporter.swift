import CoreMetrics
import JacoKernel
import Prometheus

/// Metrics in Prometheus' text format (swift-prometheus): one registry per daemon.
public struct PrometheusExporter: MetricsExporter {
    private let registry: PrometheusCollectorRegistry
    /// The factory that records into this exporter's registry.
    public let factory: any MetricsFactory

    /// Creates an empty registry. Timers become histograms with buckets from 100 µs to 10 s:
    /// store commits take about a millisecond, revocations reach other daemons in a few.
    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10),
        ]
        self.registry = registry
        self.factory = factory
    }

    /// Prometheus' text exposition format, version 0.0.4.
    public var contentType: String { "text/plain; version=0.0.4; charset=utf-8" }

    /// The registry's metrics as Prometheus text.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
