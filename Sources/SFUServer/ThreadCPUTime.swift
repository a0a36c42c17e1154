#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time used by one thread, user and system apart (getrusage `RUSAGE_THREAD` on Linux, the
/// whole process elsewhere). The media benchmarks divide it by forwarded packets.
public struct ThreadCPUTime: Sendable, Hashable {
    public var user: Duration = .zero
    public var system: Duration = .zero

    public init(user: Duration = .zero, system: Duration = .zero) {
        self.user = user
        self.system = system
    }

    public var total: Duration { user + system }

    /// The calling thread's usage so far.
    public static func ofCurrentThread() -> ThreadCPUTime {
        #if os(Linux)
        usage(1)  // RUSAGE_THREAD (a GNU extension Swift does not import)
        #else
        usage(RUSAGE_SELF)
        #endif
    }

    /// The whole process's usage so far (every thread).
    public static func ofProcess() -> ThreadCPUTime { usage(0) }  // RUSAGE_SELF

    private static func usage(_ who: Int32) -> ThreadCPUTime {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(who), &usage)
        #else
        getrusage(who, &usage)
        #endif
        return ThreadCPUTime(user: duration(usage.ru_utime), system: duration(usage.ru_stime))
    }

    private static func duration(_ time: timeval) -> Duration { .microseconds(Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_usec)) }

    public static func - (lhs: ThreadCPUTime, rhs: ThreadCPUTime) -> ThreadCPUTime {
        ThreadCPUTime(user: lhs.user - rhs.user, system: lhs.system - rhs.system)
    }
}
