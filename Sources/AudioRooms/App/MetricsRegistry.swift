import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// The process's Prometheus registry. swift-metrics can be bootstrapped once per process, so every
/// server built in this process (tests build several) shares it.
public enum MetricsRegistry {
    private static let state = NIOLockedValueBox<PrometheusCollectorRegistry?>(nil)

    /// Bootstraps swift-metrics with Prometheus on first use and returns the registry.
    public static var shared: PrometheusCollectorRegistry {
        state.withLockedValue { state in
            if let registry = state { return registry }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            state = registry
            return registry
        }
    }

    /// The Prometheus text exposition of every metric.
    public static func exposition() -> String { shared.emitToString() }
}
