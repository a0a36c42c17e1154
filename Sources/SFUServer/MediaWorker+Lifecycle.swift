import Logging
import NIOCore
import NIOPosix
import SFU

#if canImport(Glibc)
import Glibc
#endif

extension MediaWorker {
    // MARK: - Lifecycle

    /// Binds the worker's UDP port and starts its tick.
    ///
    /// The socket is made here and handed to NIO (`withBoundSocket`): NIO reads it, the
    /// ``UDPBatchSink`` writes it with `sendmmsg`, NIO closes it.
    func bind(host: String, port: Int) async throws {
        let fd = try Self.makeSocket(SocketAddress(ipAddress: host, port: port))
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: eventLoop)
                // recvmmsg: up to 32 datagrams per syscall (style R9).
                .channelOption(.datagramVectorReadMessageCount, value: 32)
                .channelOption(.maxMessagesPerRead, value: 8)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2048))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(MediaWorkerHandler(worker: self))
                    }
                }
                .withBoundSocket(fd).get()
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        let sendBuffer = Self.socketBufferSize(fd, SO_SNDBUF)
        if sendBuffer < Int(Self.sendBufferSize) {
            logger.warning(
                "media socket send buffer smaller than asked; raise net.core.wmem_max or give msab CAP_NET_ADMIN, or large fan-outs drop packets (send_buffer_full)",
                metadata: ["sfu.worker": "\(index)", "bytes": "\(sendBuffer)", "asked": "\(Self.sendBufferSize)"])
        }
        let tcpChannel = await bindTCP(host: host, port: port)
        try await eventLoop.submit {
            self.channel = channel
            self.tcpChannel = tcpChannel
            self.core.settings.offersTCP = tcpChannel != nil
            self.sink.fd = fd
            self.tickTask = self.eventLoop.scheduleRepeatedTask(initialDelay: Self.tickInterval, delay: Self.tickInterval) { _ in
                self.tick()
            }
        }.get()
    }

    /// The ICE-TCP listener (RFC 6544 passive candidates) on the UDP socket's port number, its
    /// connections on the worker's own loop so that the core stays single-threaded. A port
    /// taken on TCP is not fatal: the worker then offers UDP candidates only.
    private func bindTCP(host: String, port: Int) async -> (any Channel)? {
        let handshakeTimeout = core.settings.tcpLimits.handshakeTimeout
        do {
            return try await ServerBootstrap(group: eventLoop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 128)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // The outbound backlog of one connection: ~100 Opus packets; over it packets
                // are dropped (ICETCPConnectionHandler.enqueue), not queued.
                .childChannelOption(.writeBufferWaterMark, value: .init(low: 16 * 1024, high: 64 * 1024))
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ICETCPConnectionHandler(worker: self, handshakeTimeout: handshakeTimeout))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            logger.warning(
                "media worker could not listen on TCP; offering UDP candidates only",
                metadata: ["sfu.worker": "\(index)", "sfu.port": "\(port)", "error": "\(error)"])
            return nil
        }
    }

    /// Closes every router (no events), stops the tick and closes the socket.
    func shutdown() async {
        try? await eventLoop.submit {
            self.tickTask?.cancel()
            self.tickTask = nil
            for router in Array(self.core.routers.values) { router.close() }
            self.sink.flush()
            self.sink.tcp.closeAll()
            for continuation in self.routerEvents.values { continuation.finish() }
            self.routerEvents = [:]
        }.get()
        try? await tcpChannel?.close()
        try? await channel?.close()
    }
}
