// msab's benchmarks (`make bench`): the figures the issues ask for, printed one per line.
// Benchmarks, not timed tests, hold the performance targets.
import Foundation

print("msab-bench (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
socketIOCodecBenchmarks()
await socketIOBroadcastBenchmark(sockets: 10_000)
sfuForwardingBenchmark()
