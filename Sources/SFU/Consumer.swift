import Foundation
import MediasoupWire
import RTP

/// A simple consumer (mediasoup's SimpleConsumer): created paused; rewrites the producer's
/// packets to its own SSRC, payload type, extension ids and a continuous sequence space.
public final class Consumer {
    public let id: String
    unowned let transport: WebRTCTransport
    let producer: Producer
    let ssrc: UInt32
    var paused: Bool
    /// Producer extension id → this consumer's id (0 = the consumer does not know it).
    var extensionMap = [UInt8](repeating: 0, count: 256)
    var payloadType: UInt8
    // Sequence numbers (mediasoup's SeqManager, reduced): output = input + offset, re-synced
    // after a pause so the consumer sees no gap.
    var seqOffset: UInt16 = 0
    var lastSeq: UInt16 = 0
    var resync = true
    var started = false
    let timestampOffset: UInt32
    public private(set) var packets = 0

    init(transport: WebRTCTransport, producer: Producer, parameters: RtpParameters, ssrc: UInt32, paused: Bool) {
        id = UUID().uuidString.lowercased()
        self.transport = transport
        self.producer = producer
        self.ssrc = ssrc
        self.paused = paused
        payloadType = UInt8(parameters.codecs.first?.payloadType ?? 100)
        timestampOffset = UInt32.random(in: 0...UInt32.max)
        lastSeq = UInt16.random(in: 0...UInt16.max)
        let consumerIds = Set((parameters.headerExtensions ?? []).map(\.id))
        for from in 0..<256 {
            let routerId = Int(producer.extensionIds[from])
            if routerId != 0, consumerIds.contains(routerId) { extensionMap[from] = UInt8(routerId) }
        }
    }

    /// SimpleConsumer::SendRtpPacket: copy into the worker's scratch buffer, rewrite, protect, send.
    @inline(__always)
    func send(packet: UnsafeMutableRawPointer, length: Int, worker: WorkerCore) {
        guard !paused, transport.isConnected, length + 200 <= WorkerCore.scratchSize else { return }
        let scratch = worker.scratch
        scratch.copyMemory(from: packet, byteCount: length)
        guard let view = RTPPacketView(scratch, length: length) else { return }
        let inputSeq = view.sequenceNumber
        if resync || !started {
            seqOffset = (lastSeq &+ 1) &- inputSeq
            resync = false
            started = true
        }
        let outSeq = inputSeq &+ seqOffset
        // Keep the highest sequence number sent (reordered packets keep their place).
        if Int16(bitPattern: outSeq &- lastSeq) > 0 { lastSeq = outSeq }
        view.sequenceNumber = outSeq
        view.timestamp = view.timestamp &+ timestampOffset
        view.ssrc = ssrc
        view.payloadType = payloadType
        extensionMap.withUnsafeBufferPointer { view.remapExtensionIds($0.baseAddress!) }
        packets += 1
        transport.sendRTP(scratch, length: length)
    }
}
