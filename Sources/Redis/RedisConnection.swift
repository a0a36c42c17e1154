import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Opens one ready-to-use connection: TCP (optionally TLS), then AUTH and SELECT. Everything must
/// finish within `connectTimeout`, or the channel is closed and the attempt fails.
enum RedisConnection {
    struct HandshakeError: Error, CustomStringConvertible {
        var command: String
        var error: RedisError
        var description: String { "\(command) failed: \(error)" }
    }

    static func establish(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        selectDatabase: Bool,
        pingInterval: TimeAmount = .seconds(30),
        onPubSubEvent: @escaping @Sendable (RedisPubSubState.Event) -> Void = { _ in },
        register: @escaping @Sendable (any Channel) -> Bool,
        afterHandshake: @Sendable (any Channel) async throws -> Void = { _ in }
    ) async throws -> any Channel {
        let sslContext: NIOSSLContext?
        if configuration.tls {
            sslContext = try NIOSSLContext(configuration: configuration.tlsConfiguration ?? .makeClientConfiguration())
        } else {
            sslContext = nil
        }
        // SNI may not carry an IP address; for one, NIOSSL checks the certificate's IP SAN instead.
        let sniHost: String? = Self.isIPAddress(configuration.host) ? nil : configuration.host
        let deadline = NIODeadline.now() + TimeAmount(configuration.connectTimeout)

        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                guard register(channel) else {
                    return channel.eventLoop.makeFailedFuture(RedisError.connectionClosed)
                }
                do {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: sniHost))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RedisChannelHandler(configuration: configuration, pingInterval: pingInterval, logger: logger, onPubSubEvent: onPubSubEvent)
                    )
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        // One deadline for TLS, AUTH, SELECT and the caller's own step.
        let watchdog = channel.eventLoop.scheduleTask(deadline: deadline) {
            channel.close(promise: nil)
        }
        defer { watchdog.cancel() }
        do {
            var commands: [(name: String, arguments: [RESPArgument])] = []
            if let password = configuration.password {
                if let username = configuration.username {
                    commands.append(("AUTH", ["AUTH", .string(username), .string(password)]))
                } else {
                    commands.append(("AUTH", ["AUTH", .string(password)]))
                }
            }
            if selectDatabase, configuration.database != 0 {
                commands.append(("SELECT", ["SELECT", .int(configuration.database)]))
            }
            // Without AUTH or SELECT, a PING proves the server (and the TLS handshake) works before
            // the connection is offered to callers.
            if commands.isEmpty { commands.append(("PING", ["PING"])) }
            let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
            // Once the handler has the promises it completes them; if the write never reaches it
            // (the channel already closed, say by a failed TLS handshake), we must.
            channel.writeAndFlush(RedisOutbound.commands(commands.map(\.arguments), promises)).whenFailure { _ in
                for promise in promises { promise.fail(RedisError.connectionClosed) }
            }
            for (command, promise) in zip(commands, promises) {
                let reply: RESPValue
                do {
                    reply = try await promise.futureResult.get()
                } catch let error as RedisError {
                    throw HandshakeError(command: command.name, error: error)
                }
                if let message = reply.errorMessage {
                    // A password for a server that has none: ioredis warns and goes on, and so do we
                    // (Redis 6+: "…called without any password configured…", 5: "…no password is set").
                    if command.name == "AUTH", configuration.username == nil,
                        message.contains("without any password configured") || message.contains("no password is set")
                    {
                        logger.warning("REDIS_PASSWORD is set but the Redis server requires no password", metadata: ["reply": "\(message)"])
                        continue
                    }
                    throw HandshakeError(command: command.name, error: .server(message))
                }
            }
            try await afterHandshake(channel)
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return channel
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
