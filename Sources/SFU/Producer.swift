import Foundation
import MediasoupWire
import RTP

/// An audio producer (mediasoup's Producer): the client's stream as the router sees it.
public final class Producer {
    public let id: String
    unowned let transport: WebRTCTransport
    let mapping: RtpMapping
    /// The stream as consumers receive it (router payload type and extension ids).
    let consumable: RtpParameters
    /// The client's own id for the RFC 6464 audio level extension.
    let audioLevelId: Int?
    var paused: Bool
    var learntSSRC: UInt32?
    /// Producer payload type → router payload type, as a table for the packet path (0 = unknown).
    var payloadTypes = [UInt8](repeating: 0, count: 128)
    /// Producer extension id → router extension id (0 = not forwarded).
    var extensionIds = [UInt8](repeating: 0, count: 256)
    var lastLevel: Int?
    public private(set) var packets = 0
    public private(set) var bytes = 0

    init(transport: WebRTCTransport, mapping: RtpMapping, consumable: RtpParameters, audioLevelId: Int?, paused: Bool) {
        id = UUID().uuidString.lowercased()
        self.transport = transport
        self.mapping = mapping
        self.consumable = consumable
        self.audioLevelId = audioLevelId
        self.paused = paused
        for (from, to) in mapping.codecs where (0..<128).contains(from) { payloadTypes[from] = UInt8(to) }
        for (from, to) in mapping.headerExtensions where (0..<256).contains(from) { extensionIds[from] = UInt8(to) }
    }

    /// Accounts a packet; false when its payload type is not one the producer announced.
    @inline(__always)
    func receive(_ view: RTPPacketView, now: UInt64) -> Bool {
        guard payloadTypes[Int(view.payloadType)] != 0 else { return false }
        packets += 1
        bytes += view.length
        if let audioLevelId, let level = view.audioLevel(id: audioLevelId) { lastLevel = -level.level } else { lastLevel = nil }
        return true
    }
}
