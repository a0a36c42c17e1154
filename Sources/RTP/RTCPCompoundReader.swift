public import NIOCore

/// Iterates the packets of an RTCP compound packet (RFC 3550 §6.1) one at a time.
///
/// Each packet's length field must fit in what is left; padding (P) must have a count between 1
/// and the packet's body size. Parsing stops at the first malformed packet with a typed error.
/// RFC 3550 §6.1 wants compounds to start with SR/RR, but RFC 5506 reduced-size RTCP (which
/// pymediasoup and browsers negotiate) drops that rule, so it is not enforced.
///
/// ```swift
/// var reader = RTCPCompoundReader(buffer)
/// while let packet = try reader.next() { … }
/// ```
public struct RTCPCompoundReader: Sendable {
    /// Most FCI entries a generic NACK may carry. Each names up to 17 packets, so 64 cover 1,088:
    /// more than a retransmission buffer holds (256 packets, about 5 s of Opus). A receiver that
    /// lost every other packet of that whole buffer needs 8. More is abuse: one 1.2 kB NACK of
    /// 300 entries could otherwise ask for 5,100 retransmissions.
    public static let maxNACKItems = 64
    /// Most items one SDES chunk may carry (RFC 3550 §6.5 defines 8 types; senders send a CNAME).
    public static let maxSDESItemsPerChunk = 16

    @usableFromInline var buffer: ByteBuffer

    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    /// Whether packets remain.
    public var isAtEnd: Bool { buffer.readableBytes == 0 }

    /// The next packet, nil at the end.
    public mutating func next() throws(RTPError) -> RTCPPacket? {
        guard buffer.readableBytes > 0 else { return nil }
        guard buffer.readableBytes >= 4,
            let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let packetType = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self),
            let lengthWords = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self)
        else { throw .truncated("RTCP header needs 4 bytes, \(buffer.readableBytes) left") }
        guard first >> 6 == 2 else { throw .unsupportedVersion(first >> 6) }
        let packetLength = (Int(lengthWords) + 1) * 4  // ≤ 2^18: Int cannot overflow
        guard packetLength <= buffer.readableBytes else {
            throw .truncated("RTCP length \(packetLength) exceeds the \(buffer.readableBytes) bytes left")
        }
        guard var packet = buffer.readSlice(length: packetLength) else {
            throw .truncated("RTCP length \(packetLength) exceeds the \(buffer.readableBytes) bytes left")
        }
        packet.moveReaderIndex(forwardBy: 4)
        if first & 0x20 != 0 {
            let padding = Int(packet.getInteger(at: packet.writerIndex - 1, as: UInt8.self) ?? 0)
            guard padding > 0, padding <= packet.readableBytes else {
                throw .invalidPadding("RTCP padding count \(padding) in a \(packet.readableBytes)-byte body")
            }
            packet.moveWriterIndex(to: packet.writerIndex - padding)
        }
        return try Self.decode(packetType: packetType, count: first & 0x1F, body: packet)
    }

    /// All packets of `buffer`.
    public static func packets(in buffer: ByteBuffer) throws(RTPError) -> [RTCPPacket] {
        var reader = RTCPCompoundReader(buffer)
        var result: [RTCPPacket] = []
        while let packet = try reader.next() {
            result.append(packet)
        }
        return result
    }

    // MARK: - Per-type decoding

    static func decode(packetType: UInt8, count: UInt8, body: ByteBuffer) throws(RTPError) -> RTCPPacket {
        var body = body
        switch packetType {
        case RTCPPacketType.senderReport:
            guard body.readableBytes >= 24 + 24 * Int(count) else { throw .invalidLength("SR with \(count) blocks in \(body.readableBytes) bytes") }
            let ssrc = try body.readRTCPField(UInt32.self)
            let ntp = try body.readRTCPField(UInt64.self)
            let rtp = try body.readRTCPField(UInt32.self)
            let packets = try body.readRTCPField(UInt32.self)
            let octets = try body.readRTCPField(UInt32.self)
            // Bytes after the report blocks are profile-specific extensions (RFC 3550 §6.4.1): ignored.
            let blocks = try readReportBlocks(&body, count: Int(count))
            return .senderReport(
                RTCPSenderReport(ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: rtp, packetCount: packets, octetCount: octets, reportBlocks: blocks)
            )
        case RTCPPacketType.receiverReport:
            guard body.readableBytes >= 4 + 24 * Int(count) else { throw .invalidLength("RR with \(count) blocks in \(body.readableBytes) bytes") }
            let ssrc = try body.readRTCPField(UInt32.self)
            return .receiverReport(RTCPReceiverReport(ssrc: ssrc, reportBlocks: try readReportBlocks(&body, count: Int(count))))
        case RTCPPacketType.sourceDescription:
            return .sourceDescription(try decodeSourceDescription(&body, count: Int(count)))
        case RTCPPacketType.goodbye:
            guard body.readableBytes >= 4 * Int(count) else { throw .invalidLength("BYE with \(count) sources in \(body.readableBytes) bytes") }
            var ssrcs: [UInt32] = []
            for _ in 0..<count { ssrcs.append(try body.readRTCPField(UInt32.self)) }
            var reason: String?
            if let length = body.readInteger(as: UInt8.self) {
                guard let text = body.readString(length: Int(length)) else { throw .truncated("BYE reason of \(length) bytes") }
                reason = text
            }
            return .goodbye(RTCPGoodbye(ssrcs: ssrcs, reason: reason))
        case RTCPPacketType.transportFeedback, RTCPPacketType.payloadSpecificFeedback:
            guard body.readableBytes >= 8 else { throw .invalidLength("feedback packet of \(body.readableBytes) bytes") }
            let sender = try body.readRTCPField(UInt32.self)
            let media = try body.readRTCPField(UInt32.self)
            switch (packetType, count) {
            case (RTCPPacketType.transportFeedback, 1):
                guard body.readableBytes % 4 == 0 else { throw .invalidLength("generic NACK FCI of \(body.readableBytes) bytes") }
                guard body.readableBytes / 4 <= maxNACKItems else {
                    throw .tooManyItems("generic NACK with \(body.readableBytes / 4) FCI entries (at most \(maxNACKItems))")
                }
                var items: [RTCPGenericNACK.Item] = []
                while let pid = body.readInteger(as: UInt16.self), let blp = body.readInteger(as: UInt16.self) {
                    items.append(.init(packetID: pid, bitmask: blp))
                }
                return .genericNACK(RTCPGenericNACK(senderSSRC: sender, mediaSSRC: media, items: items))
            case (RTCPPacketType.transportFeedback, 15):
                return .transportWideCC(senderSSRC: sender, mediaSSRC: media)
            case (RTCPPacketType.payloadSpecificFeedback, 1):
                return .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: sender, mediaSSRC: media))
            case (RTCPPacketType.payloadSpecificFeedback, 15)
            where body.readableBytes >= 4 && body.getString(at: body.readerIndex, length: 4) == "REMB":
                return .receiverEstimatedMaxBitrate(senderSSRC: sender)
            default:
                return .unknown(packetType: packetType, count: count, body: Self.restore(body, bytes: 8))
            }
        default:
            return .unknown(packetType: packetType, count: count, body: body)
        }
    }

    private static func restore(_ body: ByteBuffer, bytes: Int) -> ByteBuffer {
        var body = body
        body.moveReaderIndex(to: body.readerIndex - bytes)
        return body
    }

    private static func readReportBlocks(_ body: inout ByteBuffer, count: Int) throws(RTPError) -> [RTCPReportBlock] {
        var blocks: [RTCPReportBlock] = []
        blocks.reserveCapacity(count)
        for _ in 0..<count {
            let ssrc = try body.readRTCPField(UInt32.self)
            let lossWord = try body.readRTCPField(UInt32.self)
            let highest = try body.readRTCPField(UInt32.self)
            let jitter = try body.readRTCPField(UInt32.self)
            let lsr = try body.readRTCPField(UInt32.self)
            let dlsr = try body.readRTCPField(UInt32.self)
            // Sign-extend the 24-bit cumulative loss.
            let cumulative = Int32(bitPattern: lossWord << 8) >> 8
            blocks.append(
                RTCPReportBlock(
                    ssrc: ssrc,
                    fractionLost: UInt8(lossWord >> 24),
                    cumulativeLost: cumulative,
                    extendedHighestSequenceNumber: highest,
                    jitter: jitter,
                    lastSenderReport: lsr,
                    delaySinceLastSenderReport: dlsr
                )
            )
        }
        return blocks
    }

    private static func decodeSourceDescription(_ body: inout ByteBuffer, count: Int) throws(RTPError) -> RTCPSourceDescription {
        var chunks: [RTCPSourceDescription.Chunk] = []
        for _ in 0..<count {
            let chunkStart = body.readerIndex
            guard let ssrc = body.readInteger(as: UInt32.self) else { throw .truncated("SDES chunk SSRC") }
            var items: [RTCPSourceDescription.Item] = []
            while true {
                guard let type = body.readInteger(as: UInt8.self) else { throw .truncated("SDES chunk without a null item") }
                if type == 0 { break }
                guard items.count < maxSDESItemsPerChunk else { throw .tooManyItems("SDES chunk with more than \(maxSDESItemsPerChunk) items") }
                guard let length = body.readInteger(as: UInt8.self), let value = body.readBytes(length: Int(length)) else {
                    throw .truncated("SDES item \(type)")
                }
                items.append(.init(type: type, value: value))
            }
            // The null item is followed by zero bytes up to the next 32-bit boundary (RFC 3550 §6.5).
            let consumed = body.readerIndex - chunkStart
            let pad = (4 - consumed % 4) % 4
            guard body.readableBytes >= pad else { throw .truncated("SDES chunk padding") }
            body.moveReaderIndex(forwardBy: pad)
            chunks.append(.init(ssrc: ssrc, items: items))
        }
        return RTCPSourceDescription(chunks: chunks)
    }
}

extension ByteBuffer {
    /// Reads a big-endian field of an RTCP body; the callers check sizes first, so running out
    /// here means a miscounted structure, reported as truncation rather than trusted.
    fileprivate mutating func readRTCPField<Field: FixedWidthInteger>(_: Field.Type) throws(RTPError) -> Field {
        guard let value = readInteger(as: Field.self) else { throw .truncated("RTCP field of \(Field.bitWidth / 8) bytes") }
        return value
    }
}
