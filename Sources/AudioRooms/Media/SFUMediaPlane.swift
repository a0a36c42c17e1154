import MediasoupWire
import SFUServer

/// The production `MediaPlane`: routers on the built-in SFU's workers, with the router media codecs
/// of contract §5.2 (`ORTC.msabMediaCodecs`: opus/48000/2, useinbandfec 1, usedtx 0, minptime 10,
/// sprop-stereo 1).
public struct SFUMediaPlane: MediaPlane {
    let server: MediaServer
    /// `MSAB_MAX_CONSUMERS_PER_WORKER`: see ``SFURoomRouter``.
    let maxConsumersPerWorker: Int

    public init(server: MediaServer, maxConsumersPerWorker: Int = 1_000) {
        self.server = server
        self.maxConsumersPerWorker = max(1, maxConsumersPerWorker)
    }

    public static let routerMediaCodecs: [RtpCodecCapability] = ORTC.msabMediaCodecs

    public func makeRouter() async throws -> any RoomRouter {
        let primary = try await server.createRouter(mediaCodecs: Self.routerMediaCodecs)
        return SFURoomRouter(primary: primary, server: server, maxConsumersPerWorker: maxConsumersPerWorker)
    }
}
