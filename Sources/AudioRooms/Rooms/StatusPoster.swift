import Foundation
import ServiceLifecycle

/// Sends room status posts (contract §6.3) off the event path, in order, coalescing bursts per
/// room (a join storm of 200 users becomes a handful of posts carrying the latest count).
public final class StatusPoster: Service, Sendable {
    public struct Status: Sendable, Equatable {
        public var roomId: String
        public var isLive: Bool
        public var participantCount: Int
        public var endedAt: Date?
    }

    private let backend: any RoomBackend
    private let stream: AsyncStream<Status>
    private let continuation: AsyncStream<Status>.Continuation

    public init(backend: any RoomBackend) {
        self.backend = backend
        (stream, continuation) = AsyncStream.makeStream(of: Status.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    public func post(_ status: Status) { continuation.yield(status) }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await status in stream {
                await backend.postRoomStatus(
                    roomId: status.roomId, isLive: status.isLive,
                    participantCount: status.participantCount, endedAt: status.endedAt)
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }
}
