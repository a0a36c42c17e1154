import Foundation
import NIOCore
import Redis
import Synchronization

/// The control path of cross-node pipes (issue 13 item 3): publishes ``PipeMessage``s on the
/// addressee's channel and matches replies to this node's pending requests (``PendingRequests``,
/// bounded, each with a timeout). A thin shell: the messages and the pending table are values.
public final class PipeLink: Sendable {
    public let uid: String
    let redis: RedisClient
    let timeout: Duration
    private let pending: Mutex<PendingRequests<PipeReplyOutcome, CheckedContinuation<PipeReplyOutcome, Never>>>

    /// At most this many requests of this node wait for answers at once (each is one consume
    /// of a producer not yet on this node).
    public static let maxPending = 256

    public init(uid: String, redis: RedisClient, timeout: Duration = .seconds(5), capacity: Int = PipeLink.maxPending) {
        self.uid = uid
        self.redis = redis
        self.timeout = timeout
        pending = Mutex(PendingRequests(capacity: capacity))
    }

    public var channel: String { PipeMessage.channel(of: uid) }

    /// Publishes a message to `node` (fire and forget: a lost one is covered by the dead-node sweep
    /// and by each side closing its end on its own).
    func send(_ message: PipeMessage, to node: String) async {
        let body = message.encode()
        _ = try? await redis.send(["PUBLISH", .string(PipeMessage.channel(of: node)), .bytes(ByteBuffer(bytes: body))])
    }

    /// Asks `node` to pipe a producer to `end`; its answer, or an error after the timeout.
    func request(room: String, producerId: String, end: PipeEnd, to node: String) async throws(PipeLinkError) -> PipeReply {
        guard let id = pending.withLock({ $0.reserve() }) else { throw .tooManyPending }
        let message = PipeMessage.request(PipeRequest(id: id, from: uid, room: room, producerId: producerId, end: end))
        do {
            let receivers = try await redis.send(["PUBLISH", .string(PipeMessage.channel(of: node)), .bytes(ByteBuffer(bytes: message.encode()))])
            guard (receivers.int ?? 0) > 0 else {
                _ = pending.withLock { $0.cancel(id) }
                throw PipeLinkError.nodeUnreachable
            }
        } catch let error as PipeLinkError {
            throw error
        } catch {
            _ = pending.withLock { $0.cancel(id) }
            throw .nodeUnreachable
        }
        let timeout = self.timeout
        let outcome = await withTaskGroup(of: PipeReplyOutcome?.self) { group -> PipeReplyOutcome in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let action = self.pending.withLock { $0.wait(id, continuation) }
                    switch action {
                    case .resume(let outcome): continuation.resume(returning: outcome)
                    case .keep: break
                    case .fail: continuation.resume(returning: .timedOut)
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                // Timed out (or cancelled): the waiter, if it waits, ends with `.timedOut`.
                self.pending.withLock { $0.cancel(id) }?.resume(returning: .timedOut)
                return nil
            }
            var result = PipeReplyOutcome.timedOut
            for await value in group {
                if let value {
                    result = value
                    group.cancelAll()
                    break
                }
            }
            return result
        }
        switch outcome {
        case .reply(let reply):
            // Only the node asked may answer (a forged answer from another node ends the request).
            guard reply.from == node else { throw .refused("answer from another node") }
            return reply
        case .failed(let error): throw .refused(error)
        case .timedOut: throw .timedOut
        }
    }

    /// A reply arrived on our channel: hand it to its waiter. Only the node asked may answer.
    func deliver(_ message: PipeMessage) {
        let (id, outcome): (UInt64, PipeReplyOutcome)
        switch message {
        case .reply(let reply): (id, outcome) = (reply.id, .reply(reply))
        case .failed(let requestId, _, let error): (id, outcome) = (requestId, .failed(error))
        default: return
        }
        pending.withLock { $0.answer(id, outcome) }?.resume(returning: outcome)
    }

    var pendingCount: Int { pending.withLock { $0.count } }
}

enum PipeReplyOutcome: Sendable {
    case reply(PipeReply)
    case failed(String)
    case timedOut
}

/// Why a pipe request failed.
public enum PipeLinkError: Error, Sendable, Hashable {
    /// ``PipeLink/maxPending`` requests are already waiting.
    case tooManyPending
    /// Redis is down, or no node listens on the addressee's channel (it is gone).
    case nodeUnreachable
    case timedOut
    /// The other node answered that it cannot.
    case refused(String)
}
