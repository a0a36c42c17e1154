#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Another process's CPU time from `/proc/PID/stat` (Linux; fields 14 and 15, utime and stime in
/// clock ticks, proc(5)), so `--server-pid` can report what the server spent per join and per
/// forwarded packet, user and system apart. Nil where /proc is missing or the process is gone.
public struct ProcessCPUTime: Sendable, Hashable {
    public var user: Double
    public var system: Double

    public init(user: Double, system: Double) {
        self.user = user
        self.system = system
    }

    /// The CPU spent between `earlier` and this reading.
    public func since(_ earlier: ProcessCPUTime) -> ProcessCPUTime {
        ProcessCPUTime(user: user - earlier.user, system: system - earlier.system)
    }

    public static func of(pid: Int32) -> ProcessCPUTime? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return parse(bytes[0..<count], ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// Parses a stat line. The command name (field 2) may hold spaces and parentheses, so the
    /// fields are counted from the LAST ')'.
    public static func parse(_ line: some BidirectionalCollection<UInt8>, ticksPerSecond: Double) -> ProcessCPUTime? {
        guard ticksPerSecond > 0, let close = line.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = line[line.index(after: close)...].split(separator: UInt8(ascii: " "))
        // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let utime = UInt64(String(decoding: fields[11], as: UTF8.self)),
            let stime = UInt64(String(decoding: fields[12], as: UTF8.self))
        else { return nil }
        return ProcessCPUTime(user: Double(utime) / ticksPerSecond, system: Double(stime) / ticksPerSecond)
    }
}
