public import NIOCore

/// Builds a speaker's RTP packets (RFC 3550 §5.1, RFC 7587 for Opus) from ``OpusFixture``:
/// sequence number +1 and timestamp +960 per 20 ms frame, looping over the fixture's frames.
public struct OpusPacketizer: Sendable {
    /// The payload type the load test's producers declare in `audio:produce`.
    public static let payloadType: UInt8 = 111

    public let ssrc: UInt32
    public private(set) var sequenceNumber: UInt16
    public private(set) var timestamp: UInt32
    private var frameIndex = 0

    public init(ssrc: UInt32, sequenceNumber: UInt16 = 1, timestamp: UInt32 = 0) {
        self.ssrc = ssrc
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
    }

    /// The next packet, with `reservingCapacity` spare bytes for the SRTP tag.
    public mutating func next(reservingCapacity extra: Int) -> ByteBuffer {
        let frames = OpusFixture.frames
        let payload = frames[frameIndex]
        var packet = ByteBuffer()
        packet.reserveCapacity(12 + payload.count + extra)
        packet.writeInteger(UInt8(0x80))  // V=2, no padding, no extension, no CSRC
        packet.writeInteger(Self.payloadType)  // M=0
        packet.writeInteger(sequenceNumber)
        packet.writeInteger(timestamp)
        packet.writeInteger(ssrc)
        packet.writeBytes(payload)
        sequenceNumber &+= 1
        timestamp &+= OpusFixture.samplesPerFrame
        frameIndex = (frameIndex + 1) % frames.count
        return packet
    }
}
