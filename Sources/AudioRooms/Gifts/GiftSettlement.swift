import Logging
import Metrics
import ServiceLifecycle

/// Settles queued gifts every `GIFT_BUFFER_FLUSH_INTERVAL_MS` (contract §7.1), one flush at a
/// time (fix 15: a slow backend never overlaps itself), and once more at graceful shutdown.
/// Gifts the backend reports failed, and gifts that exhaust `GIFT_MAX_RETRIES`, are reported to
/// the sender's socket with `gift:error`; nothing is lost in between (the queue is durable).
public struct GiftSettlement: Service {
    let queue: GiftQueue
    let backend: any RoomBackend
    let outbox: any Outbox
    let interval: Duration
    let maxRetries: Int
    let logger: Logger

    public init(queue: GiftQueue, backend: any RoomBackend, outbox: any Outbox, interval: Duration, maxRetries: Int, logger: Logger) {
        self.queue = queue
        self.backend = backend
        self.outbox = outbox
        self.interval = interval
        self.maxRetries = maxRetries
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Woken by graceful shutdown, so the final flush does not wait out a long interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
    }

    /// One settlement attempt for everything pending now. A batch the backend accepted is never
    /// sent again by this process, even when recording it as done fails (a full disk): the queue
    /// drops it from memory first and writes the records later.
    public func flush() async {
        let batch = queue.pending()
        guard !batch.isEmpty else { return }
        await queue.sync()
        Recorder(label: "msab_gift_batch_size").record(batch.count)
        let failures: [GiftFailure]
        do {
            failures = try await backend.settleGifts(batch)
        } catch {
            logger.warning("gift batch settlement failed; will retry", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            do {
                let dead = try await queue.recordFailure(batch.map(\.transaction_id), maxRetries: maxRetries)
                Counter(label: "msab_gifts_processed_total", dimensions: [("status", "dead_letter")]).increment(by: dead.count)
                for gift in dead {
                    guard let socket = gift.sender_socket_id else { continue }
                    outbox.send(
                        "gift:error",
                        GiftErrorEvent(
                            transactionId: gift.transaction_id, code: .text("PROCESSING_FAILED"),
                            reason: "Gift processing failed after multiple attempts"), to: .socket(socket))
                }
            } catch {
                logger.error("gift queue write failed", metadata: ["error": "\(error)"])
            }
            return
        }
        let failedIds = Set(failures.map(\.transaction_id))
        for failure in failures {
            if let gift = batch.first(where: { $0.transaction_id == failure.transaction_id }), let socket = gift.sender_socket_id {
                outbox.send(
                    "gift:error", GiftErrorEvent(transactionId: failure.transaction_id, code: .number(failure.code), reason: failure.reason),
                    to: .socket(socket))
            }
        }
        Counter(label: "msab_gifts_processed_total", dimensions: [("status", "success")]).increment(by: batch.count - failedIds.count)
        Counter(label: "msab_gifts_processed_total", dimensions: [("status", "failed")]).increment(by: failedIds.count)
        do {
            try await queue.markDone(batch.map(\.transaction_id))
        } catch {
            logger.error(
                "gift done records not written; the gifts are settled and not resent", metadata: ["count": "\(batch.count)", "error": "\(error)"])
        }
    }
}
