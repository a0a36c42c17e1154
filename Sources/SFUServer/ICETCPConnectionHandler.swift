import Logging
import NIOCore
import SFU
import STUN

/// One accepted ICE-TCP connection (RFC 6544 passive candidate) of a media worker: a thin pump
/// between the socket and the worker's sans-I/O core (style R9).
///
/// Inbound bytes go through an ``RFC4571Framer``; each frame is handed to the core as a packet
/// from this connection's tuple, which demultiplexes it like a UDP datagram. Hostile peers: a
/// frame length of 0 or over the bound closes the connection (``DropReason/tcpFrameInvalid``);
/// no passed ICE check within the handshake timeout closes it (``DropReason/tcpHandshakeTimeout``);
/// over the connection limits it is closed at accept (``DropReason/tcpConnectionLimit``).
/// Outbound packets are written framed and flushed once per burst; while the kernel and NIO
/// already hold more than the channel's high water mark, packets are dropped
/// (``DropReason/tcpBacklogFull``): late audio is worth nothing, and a slow reader must not
/// make the worker buffer without bound.
///
/// Confined to the worker's event loop (the listener and its children run on it).
final class ICETCPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let worker: MediaWorker
    private let handshakeTimeout: TimeAmount
    private var framer = RFC4571Framer()
    private var tuple: TransportAddress?
    private var context: ChannelHandlerContext?
    private var deadline: Scheduled<Void>?
    private var closing = false
    /// Packets written since the last flush.
    private(set) var needsFlush = false

    init(worker: MediaWorker, handshakeTimeout: TimeAmount) {
        self.worker = worker
        self.handshakeTimeout = handshakeTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let remote = context.channel.remoteAddress, let address = TransportAddress(remote) else {
            return context.close(promise: nil)
        }
        let tuple = address.with(tcp: true)
        guard worker.tcpOpened(tuple, handler: self) else {
            closing = true
            return context.close(promise: nil)
        }
        self.tuple = tuple
        self.context = context
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [weak self] in self?.handshakeDeadlinePassed() }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, let tuple else { return }
        var bytes = unwrapInboundIn(data)
        framer.append(&bytes)
        while true {
            let frame: ByteBuffer?
            do {
                frame = try framer.nextFrame()
            } catch {
                worker.tcpDrop(.tcpFrameInvalid)
                worker.logger.debug("ice-tcp framing refused; closing", metadata: ["sfu.tuple": "\(tuple)", "error": "\(error)"])
                close()
                return
            }
            guard var frame else { return }
            worker.receivedTCP(&frame, from: tuple)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        worker.afterWork()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let tuple { worker.tcpClosed(tuple, handler: self) }
        tuple = nil
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or a broken pipe: the connection is over, never the worker.
        worker.logger.debug("ice-tcp connection error", metadata: ["error": "\(error)"])
        close()
    }

    // MARK: - Called by the worker (on the loop)

    /// Writes one framed packet; false when the backlog is over its bound (or the connection is
    /// closing), and nothing was written.
    func enqueue(capacity: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard !closing, let context, context.channel.isWritable else { return false }
        var buffer = context.channel.allocator.buffer(capacity: capacity + 2)
        buffer.writeInteger(UInt16(0))
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { raw in
            max(0, min(write(UnsafeMutableRawBufferPointer(rebasing: raw[0..<capacity])), capacity))
        }
        // RFC 4571 cannot carry an empty or a > 65,535-byte packet; nothing is sent then.
        guard let length = UInt16(exactly: written), length > 0 else { return true }
        buffer.setInteger(length, at: buffer.readerIndex)
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
        return true
    }

    /// Flushes what ``enqueue(capacity:_:)`` wrote since the last flush.
    func flush() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// Closes the connection (worker shutdown).
    func closeConnection() {
        close()
    }

    // MARK: - Private

    private func handshakeDeadlinePassed() {
        deadline = nil
        guard !closing, let tuple, !worker.tcpHasPassedICECheck(tuple) else { return }
        worker.tcpDrop(.tcpHandshakeTimeout)
        close()
    }

    private func close() {
        guard !closing else { return }
        closing = true
        context?.close(promise: nil)
    }
}
