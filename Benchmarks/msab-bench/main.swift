// msab's benchmarks (`make bench`): the figures the issues ask for, printed one per line.
// Benchmarks, not timed tests, hold the performance targets.
//
// SFU sizes can be narrowed for a quick look: SFU_INPROC=100,1000 SFU_LOOPBACK=100 SFU_SPREAD=100 SFU_SECONDS=5.
import Foundation

let environment = ProcessInfo.processInfo.environment
func counts(_ name: String, _ fallback: [Int]) -> [Int] {
    guard let value = environment[name] else { return fallback }
    return value.split(separator: ",").compactMap { Int($0) }
}

print("msab-bench (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
socketIOCodecBenchmarks()
jsonBridgeBenchmarks()
await socketIOBroadcastBenchmark(sockets: 10_000)
await sfuBenchmarks(
    inProcessConsumers: counts("SFU_INPROC", [100, 1_000, 5_000]),
    loopbackConsumers: counts("SFU_LOOPBACK", [100, 1_000, 5_000]),
    spreadConsumers: counts("SFU_SPREAD", [1_000, 5_000]),
    seconds: Int(environment["SFU_SECONDS"] ?? "") ?? 20)
