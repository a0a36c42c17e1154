import MediasoupWire
import SFUServer

/// What the rooms need from the SFU: one router per room. `SFUMediaPlane` (routers on `SFUServer`'s
/// `MediaServer`) is the production implementation; tests can substitute a fake.
public protocol MediaPlane: Sendable {
    /// Creates the router of a room (on the least loaded worker).
    func makeRouter() async throws -> any RoomRouter
}

/// A room's router: mediasoup's Router/WebRtcTransport/Producer/Consumer, addressed by id.
public protocol RoomRouter: AnyObject, Sendable {
    var id: String { get }
    var rtpCapabilities: RtpCapabilities { get }
    /// Router events (closures of transports/producers/consumers, speaker detection). One reader.
    var mediaEvents: AsyncStream<MediaRouterEvent> { get }

    func createTransport() async throws -> WebRtcTransportInfo
    func connectTransport(_ transportId: String, dtlsParameters: DtlsParameters) async throws
    func restartIce(_ transportId: String) async throws -> IceParameters
    func closeTransport(_ transportId: String) async

    func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters, paused: Bool) async throws -> String
    func setProducerPaused(_ producerId: String, _ paused: Bool) async throws
    func closeProducer(_ producerId: String) async

    func canConsume(producerId: String, rtpCapabilities: RtpCapabilities) async -> Bool
    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities) async throws -> ConsumerInfo
    func setConsumerPaused(_ consumerId: String, _ paused: Bool) async throws
    func closeConsumer(_ consumerId: String) async

    func close() async

    // MARK: Pipes to other nodes (issue 13 item 3)

    /// Receiving side: a pipe transport for one producer of another node; its end goes to that node.
    func openImportPipe() async throws -> (pipeId: String, end: PipeEnd)
    /// Receiving side: connects the pipe to the origin's end and creates the copy of its
    /// producer (same id), which this room's listeners then consume like a local producer.
    func completeImport(
        pipeId: String, producerId: String, remote: PipeEnd, kind: MediaKind, rtpParameters: RtpParameters,
        paused: Bool) async throws
    /// Receiving side: closes the copy (its consumers close with `consumerClosed` events) and the pipe.
    func closeImport(pipeId: String, producerId: String) async
    /// Origin side: a pipe to `remote` sending our producer; our end and the parameters over it.
    func exportProducer(_ producerId: String, to remote: PipeEnd) async throws -> (
        pipeId: String, end: PipeEnd, kind: MediaKind,
        rtpParameters: RtpParameters, paused: Bool
    )
    /// Origin side: closes a pipe made by `exportProducer`.
    func closeExport(pipeId: String) async
}

/// A router without pipes to other nodes (test doubles, stand-alone fakes): every pipe call fails.
public struct PipesUnsupported: Error {}

extension RoomRouter {
    public func openImportPipe() async throws -> (pipeId: String, end: PipeEnd) { throw PipesUnsupported() }
    public func completeImport(
        pipeId: String, producerId: String, remote: PipeEnd, kind: MediaKind, rtpParameters: RtpParameters,
        paused: Bool
    ) async throws { throw PipesUnsupported() }
    public func closeImport(pipeId: String, producerId: String) async {}
    public func exportProducer(_ producerId: String, to remote: PipeEnd) async throws -> (
        pipeId: String, end: PipeEnd, kind: MediaKind,
        rtpParameters: RtpParameters, paused: Bool
    ) {
        throw PipesUnsupported()
    }
    public func closeExport(pipeId: String) async {}
}

/// Refusals of a router that the room answers with their own error strings (anything else a
/// router throws is a failure: "Consume failed", "Server error", …).
public enum RoomMediaError: Error, Sendable, Hashable {
    /// The transport holds as many consumers as it may (`MSAB_MAX_CONSUMERS_PER_TRANSPORT`):
    /// `{error: "Consumer limit reached"}`.
    case consumerLimitReached
    /// The transport already consumes this producer: `{error: "Cannot consume"}`.
    case alreadyConsuming
}
