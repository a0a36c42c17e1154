/// Per-worker object counts, aggregated by ``MediaServer`` into the gauges.
struct WorkerObjectCounts: Sendable, Hashable {
    var routers = 0
    var transports = 0
    var producers = 0
    var consumers = 0
}
