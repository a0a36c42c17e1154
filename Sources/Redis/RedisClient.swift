// A Redis client written for msab on SwiftNIO: no Swift Redis package is available to this project
// (only the packages already in Package.swift may be used), so the protocol (RESPDecoder,
// RESPEncoder), the reply FIFO (RedisReplyQueue), the connection handling and pub/sub
// (RedisSubscriber) are all here. Redis-side facts: shared/redis-adapter.md §A.6; configuration and
// timeouts: shared/msab-contract.md §8.2.

import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The command connection: one connection, kept alive by `run()`, with every command pipelined on it.
///
/// Commands are written as soon as they are sent and their replies matched in FIFO order, so any
/// number of concurrent callers share the connection without waiting for each other. While there is
/// no connection, `send` fails at once with `.notConnected` instead of queueing: callers (socket
/// handlers, the /health route) must not pile up behind a Redis outage.
///
/// Use a `RedisSubscriber` for SUBSCRIBE: a subscribed RESP2 connection can run no other command.
public final class RedisClient: Sendable, Service {
    public let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let metrics: RedisMetrics
    private let lifecycle: RedisConnectionLifecycle

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.metrics = RedisMetrics(role: "command")
        self.lifecycle = RedisConnectionLifecycle(logger: logger, metrics: metrics, eventLoopGroup: eventLoopGroup)
    }

    /// Connects and keeps one command connection alive, reconnecting after a loss with backoff
    /// min(50 ms × attempt, 2 s). Returns on graceful shutdown or cancellation, after closing the
    /// connection (commands still waiting then fail with `.connectionClosed`).
    public func run() async throws {
        let lifecycle = self.lifecycle
        let configuration = self.configuration
        let eventLoopGroup = self.eventLoopGroup
        let logger = self.logger
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await lifecycle.run {
                    try await RedisConnection.establish(
                        configuration: configuration,
                        eventLoopGroup: eventLoopGroup,
                        logger: logger,
                        selectDatabase: true,
                        register: { lifecycle.register($0) }
                    )
                }
            } onGracefulShutdown: {
                lifecycle.stop()
            }
        } onCancel: {
            lifecycle.stop()
        }
    }

    /// True while a connection is ready for commands.
    public var isConnected: Bool { lifecycle.readyChannel != nil }

    /// The connection state: first the current one, then true on every (re)connect and false on every
    /// loss. Any number of observers; each stream finishes when `run()` returns.
    public func connectionStates() -> AsyncStream<Bool> {
        lifecycle.states()
    }

    /// Sends one command and returns its reply. An error reply throws `.server(message)`; no reply
    /// within `commandTimeout` throws `.timeout`; no connection throws `.notConnected` at once; a
    /// command that would break reply pairing (SUBSCRIBE, MONITOR, …) throws `.protocolError`.
    public func send(_ arguments: [RESPArgument]) async throws(RedisError) -> RESPValue {
        let futures = try submit([arguments])
        let result = await Self.result(of: futures[0])
        record(result)
        return try result.get()
    }

    public func send(_ arguments: RESPArgument...) async throws(RedisError) -> RESPValue {
        try await send(arguments)
    }

    /// Writes one command now, without suspending, and returns its reply's future: for a caller
    /// that must not wait for a task hop before the command is on its way (the adapter's
    /// publishes go out before the local fan-out of the same broadcast). Same checks, errors and
    /// timeout as ``send(_:)``.
    public func start(_ arguments: [RESPArgument]) throws(RedisError) -> EventLoopFuture<RESPValue> {
        let future = try submit([arguments])[0]
        future.whenComplete { [self] result in record(Self.result(result)) }
        return future
    }

    /// Sends several commands in one write and flush; one result per command, in order. An error
    /// reply is `.failure(.server(message))` for that command only.
    public func pipeline(_ commands: [[RESPArgument]]) async throws(RedisError) -> [Result<RESPValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        let futures = try submit(commands)
        var results: [Result<RESPValue, RedisError>] = []
        results.reserveCapacity(futures.count)
        for future in futures {
            let result = await Self.result(of: future)
            record(result)
            results.append(result)
        }
        return results
    }

    /// Runs a Lua script by its SHA-1 (EVALSHA) and, when the server does not know it (NOSCRIPT,
    /// after a restart or SCRIPT FLUSH), by its source (EVAL), which also caches it on the server.
    public func eval(_ script: RedisScript, keys: [String], args: [RESPArgument]) async throws(RedisError) -> RESPValue {
        let tail: [RESPArgument] = [.int(keys.count)] + keys.map { .string($0) } + args
        do {
            return try await send(["EVALSHA", .string(script.sha1)] + tail)
        } catch {
            guard case .server(let message) = error, message.hasPrefix("NOSCRIPT") else { throw error }
            return try await send(["EVAL", .string(script.source)] + tail)
        }
    }

    /// PING → PONG, for /health.
    public func ping() async throws(RedisError) {
        let reply = try await send(["PING"])
        guard reply.string == "PONG" else { throw .protocolError("PING answered with \(reply)") }
    }

    // MARK: - Internals

    private func submit(_ commands: [[RESPArgument]]) throws(RedisError) -> [EventLoopFuture<RESPValue>] {
        for command in commands {
            if let problem = Self.breaksReplyPairing(command) {
                metrics.record(.protocolError(problem))
                throw .protocolError(problem)
            }
        }
        guard let channel = lifecycle.readyChannel else {
            for _ in commands { metrics.record(.notConnected) }
            throw .notConnected
        }
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        // If the write never reaches the handler (the channel closed meanwhile), nobody else will
        // complete the promises; once it does, the handler owns them and this write succeeds.
        channel.writeAndFlush(RedisOutbound.commands(commands, promises)).whenFailure { _ in
            for promise in promises { promise.fail(RedisError.connectionClosed) }
        }
        return promises.map(\.futureResult)
    }

    /// Replies are matched to commands purely by order, so a command that gets no reply or several
    /// would hand every later caller someone else's reply. Such commands are refused here: an
    /// empty one (Redis ignores `*0`), the (P|S)(UN)SUBSCRIBE family (use `RedisSubscriber`),
    /// MONITOR, SYNC/PSYNC and CLIENT REPLY OFF/SKIP.
    static func breaksReplyPairing(_ command: [RESPArgument]) -> String? {
        guard let first = command.first else { return "empty command" }
        let name = first.description.uppercased()
        switch name {
        case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE":
            return "\(name) on the command connection (use RedisSubscriber)"
        case "MONITOR", "SYNC", "PSYNC":
            return "\(name) is not supported"
        case "CLIENT" where command.count > 1 && command[1].description.uppercased() == "REPLY":
            return "CLIENT REPLY is not supported"
        default:
            return nil
        }
    }

    /// The reply as a typed result; an error reply becomes `.server`. Waiting is bounded by the
    /// handler's command timeout, so it needs no cancellation of its own.
    private static func result(of future: EventLoopFuture<RESPValue>) async -> Result<RESPValue, RedisError> {
        do {
            return result(.success(try await future.get()))
        } catch {
            return result(.failure(error))
        }
    }

    /// A reply future's outcome as callers see it: an error reply is `.server(message)`.
    static func result(_ outcome: Result<RESPValue, any Error>) -> Result<RESPValue, RedisError> {
        switch outcome {
        case .success(let value): value.errorMessage.map { .failure(.server($0)) } ?? .success(value)
        case .failure(let error as RedisError): .failure(error)
        case .failure: .failure(.connectionClosed)
        }
    }

    private func record(_ result: Result<RESPValue, RedisError>) {
        switch result {
        case .success: metrics.succeeded.increment()
        case .failure(let error): metrics.record(error)
        }
    }
}
