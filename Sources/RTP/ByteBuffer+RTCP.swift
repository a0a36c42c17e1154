public import NIOCore

extension ByteBuffer {
    /// Appends `packet` (header, body, zero padding to 32 bits for SDES/BYE) and returns the
    /// number of bytes written. Compound packets are built by calling this once per packet.
    ///
    /// `.transportWideCC` and `.receiverEstimatedMaxBitrate` are only recognised, not modelled,
    /// so they cannot be written: they write nothing and return 0. More than 31 report blocks,
    /// SDES chunks or BYE sources, and SDES/BYE texts over 255 bytes are programmer errors.
    @discardableResult
    public mutating func writeRTCPPacket(_ packet: RTCPPacket) -> Int {
        let start = writerIndex
        switch packet {
        case .senderReport(let sr):
            writeRTCPHeader(count: sr.reportBlocks.count, packetType: RTCPPacketType.senderReport)
            writeInteger(sr.ssrc)
            writeInteger(sr.ntpTimestamp)
            writeInteger(sr.rtpTimestamp)
            writeInteger(sr.packetCount)
            writeInteger(sr.octetCount)
            for block in sr.reportBlocks { writeRTCPReportBlock(block) }
        case .receiverReport(let rr):
            writeRTCPHeader(count: rr.reportBlocks.count, packetType: RTCPPacketType.receiverReport)
            writeInteger(rr.ssrc)
            for block in rr.reportBlocks { writeRTCPReportBlock(block) }
        case .sourceDescription(let sdes):
            writeRTCPHeader(count: sdes.chunks.count, packetType: RTCPPacketType.sourceDescription)
            for chunk in sdes.chunks {
                let chunkStart = writerIndex
                writeInteger(chunk.ssrc)
                for item in chunk.items {
                    precondition(item.type != 0 && item.value.count <= 255, "SDES item type 0 or longer than 255 bytes")
                    writeInteger(item.type)
                    writeInteger(UInt8(item.value.count))
                    writeBytes(item.value)
                }
                // Null item, then pad to 32 bits: 1 to 4 zero bytes in total (RFC 3550 §6.5).
                let used = writerIndex - chunkStart
                writeRepeatingByte(0, count: 4 - used % 4)
            }
        case .goodbye(let bye):
            writeRTCPHeader(count: bye.ssrcs.count, packetType: RTCPPacketType.goodbye)
            for ssrc in bye.ssrcs { writeInteger(ssrc) }
            if let reason = bye.reason {
                let utf8 = Array(reason.utf8)
                precondition(utf8.count <= 255, "BYE reason longer than 255 bytes")
                writeInteger(UInt8(utf8.count))
                writeBytes(utf8)
                writeRepeatingByte(0, count: (4 - (1 + utf8.count) % 4) % 4)
            }
        case .genericNACK(let nack):
            writeRTCPHeader(count: 1, packetType: RTCPPacketType.transportFeedback)
            writeInteger(nack.senderSSRC)
            writeInteger(nack.mediaSSRC)
            for item in nack.items {
                writeInteger(item.packetID)
                writeInteger(item.bitmask)
            }
        case .pictureLossIndication(let pli):
            writeRTCPHeader(count: 1, packetType: RTCPPacketType.payloadSpecificFeedback)
            writeInteger(pli.senderSSRC)
            writeInteger(pli.mediaSSRC)
        case .transportWideCC, .receiverEstimatedMaxBitrate:
            return 0
        case .unknown(let packetType, let count, var body):
            writeRTCPHeader(count: Int(count), packetType: packetType)
            writeBuffer(&body)
            writeRepeatingByte(0, count: (4 - (writerIndex - start) % 4) % 4)
        }
        let length = writerIndex - start
        setInteger(UInt16(length / 4 - 1), at: start + 2)
        return length
    }

    private mutating func writeRTCPHeader(count: Int, packetType: UInt8) {
        precondition(count < 32, "RTCP count \(count) does not fit in 5 bits")
        writeInteger(UInt8(0x80 | count))
        writeInteger(packetType)
        writeInteger(UInt16(0))  // length, patched by writeRTCPPacket
    }

    private mutating func writeRTCPReportBlock(_ block: RTCPReportBlock) {
        writeInteger(block.ssrc)
        writeInteger(UInt32(block.fractionLost) << 24 | (UInt32(bitPattern: block.cumulativeLost) & 0x00FF_FFFF))
        writeInteger(block.extendedHighestSequenceNumber)
        writeInteger(block.jitter)
        writeInteger(block.lastSenderReport)
        writeInteger(block.delaySinceLastSenderReport)
    }
}
