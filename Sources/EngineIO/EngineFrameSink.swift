public import EngineIOParser
public import NIOCore

/// Where a WebSocket's frames go: straight into its NIO channel.
///
/// The web framework adapter implements it over the upgraded channel (`EngineIOHummingbird`).
/// The session's ``OutboundFrameQueue`` calls it only on ``eventLoop``, outside every lock: it
/// writes what is queued, flushes once, and counts the bytes as written when the last write's
/// promise completes, so a client that stops reading still shows up in the backlog. Writing
/// into the channel (instead of through a task per socket and an async writer) saves a task
/// wake-up, an event-loop hop and a flush per frame: a broadcast costs one hop per event loop.
///
/// Class-bound: the queue holds it as an existential and copies it per drain; a class
/// existential copies with one retain, a value one through its type's value witnesses.
public protocol EngineFrameSink: AnyObject, Sendable {
    /// The channel's event loop; every call below happens on it.
    var eventLoop: any EventLoop { get }
    /// Writes one frame without flushing; `promise` completes once it is on the wire (or failed).
    /// `memo` (inside a broadcast's batch) lets the sockets of one loop share a frame's encoding.
    func write(_ frame: EngineIOCodec.Frame, memo: EngineFrameMemo?, promise: EventLoopPromise<Void>?)
    /// Flushes what was written.
    func flush()
    /// Asks the CPU for the objects the next `write` will touch (the sink's channel and
    /// handler context): a broadcast's drain calls it a few sockets ahead (see
    /// ``EngineWriteBatch``). Only a hint; the default does nothing.
    func prefetch()
}

extension EngineFrameSink {
    public func prefetch() {}
}
