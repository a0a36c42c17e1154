import NIOCore

extension MediaWorker {
    /// CPU time the worker's thread has used so far, user and system apart: getrusage
    /// (RUSAGE_THREAD) on the loop's own thread (the whole process on systems without per-thread
    /// usage). System time includes what the kernel does inside the worker's sendmmsg calls (on
    /// loopback also the receivers' side of the delivery).
    func threadCPUTime() async -> ThreadCPUTime {
        (try? await eventLoop.submit { ThreadCPUTime.ofCurrentThread() }.get()) ?? ThreadCPUTime()
    }
}
