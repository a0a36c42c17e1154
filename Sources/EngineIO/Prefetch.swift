import CPrefetch

/// Asks the CPU to bring the first `lines` cache lines (64 bytes each) of `object` into cache.
///
/// A broadcast touches a handful of objects per recipient (queue, sink, channel, handler
/// context), and with thousands of recipients none of them is in cache: each first touch
/// stalled on memory, which the profile showed as `swift_retain` (the first thing done to an
/// object is to retain it) at the top of the fan-out. The drain loop asks for the objects of
/// the sockets a few places ahead, as the SFU's fan-out does for its consumers.
@inline(__always)
public func enginePrefetch(_ object: AnyObject, lines: Int32) {
    msab_prefetch_lines(Unmanaged.passUnretained(object).toOpaque(), lines)
}
