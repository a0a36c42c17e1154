import Foundation

/// Runs `body` `iterations` times (after a warm-up) and returns wall seconds per iteration.
func measure(_ iterations: Int, _ body: () -> Void) -> Double {
    for _ in 0..<min(iterations / 10, 1000) { body() }
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { body() }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(iterations)
}

func format(_ seconds: Double) -> String {
    if seconds < 1e-6 { return String(format: "%.0f ns", seconds * 1e9) }
    if seconds < 1e-3 { return String(format: "%.2f µs", seconds * 1e6) }
    return String(format: "%.2f ms", seconds * 1e3)
}
