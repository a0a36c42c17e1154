public import NIOCore

extension ByteBuffer {
    /// Sets RFC 8285 header extension `id` of the RTP packet in the readable bytes to `value`,
    /// adding or growing the extension block when needed (mediasoup `RtpPacket::UpdateMid` /
    /// `SetExtensions`). A consumer's `sdes:mid` differs from the producer's ("0" becomes "10"
    /// on a receive transport with many consumers), so forwarding must rewrite it per consumer.
    ///
    /// Cost model: in place (no move) when the value fits in the existing element plus the
    /// padding that follows it, or in the block's trailing padding; otherwise the payload is moved
    /// by a multiple of 4 bytes inside the buffer (no allocation when the buffer has capacity, as
    /// a receive buffer or an SRTP scratch buffer does).
    ///
    /// Returns false, changing nothing, when the bytes are not RTP, the block uses a non-RFC-8285
    /// profile, or `value` cannot be represented in the block's form (one-byte form: id 1–14 and
    /// 1–16 bytes; two-byte form: id 1–255 and 0–255 bytes). A new block uses the one-byte form
    /// when it can.
    @discardableResult
    public mutating func setRTPHeaderExtension(id: UInt8, value: [UInt8]) -> Bool {
        guard id != 0 else { return false }
        enum Plan {
            case done
            case impossible
            /// Insert `count` zero bytes at `offset` (relative to readerIndex), then write the
            /// element at `elementOffset`; `newBlock` when a block header must be created.
            case grow(offset: Int, count: Int, elementOffset: Int, form: RTPHeaderExtensionForm, newBlock: Bool)
        }
        let plan: Plan = withUnsafeMutableReadableBytes { bytes in
            guard let view = RTPPacketView(bytes) else { return .impossible }
            if !view.hasExtension {
                let form: RTPHeaderExtensionForm = (id <= 14 && (1...16).contains(value.count)) ? .oneByte : .twoByte
                guard form == .oneByte || value.count <= 255 else { return .impossible }
                let size = (form == .oneByte ? 1 : 2) + value.count
                let blockStart = 12 + view.csrcCount * 4
                return .grow(offset: blockStart, count: 4 + (size + 3) & ~3, elementOffset: blockStart + 4, form: form, newBlock: true)
            }
            guard let form = view.extensionForm, Self.representable(id: id, length: value.count, form: form) else { return .impossible }
            let block = view.extensionDataRange
            var lastEnd = block.lowerBound
            var existing: RTPHeaderExtensionElement?
            var iterator = view.extensionElements
            while let element = iterator.next() {
                if element.id == id && existing == nil { existing = element }
                lastEnd = max(lastEnd, element.dataRange.upperBound)
            }
            let headerSize = form == .oneByte ? 1 : 2
            if let existing {
                // Room = the element's bytes plus the zero (padding) bytes right after it.
                var roomEnd = existing.dataRange.upperBound
                while roomEnd < block.upperBound && bytes[roomEnd] == 0 { roomEnd += 1 }
                if existing.headerOffset + headerSize + value.count <= roomEnd {
                    Self.writeElement(into: bytes, at: existing.headerOffset, id: id, value: value, form: form)
                    let end = existing.headerOffset + headerSize + value.count
                    let oldEnd = existing.dataRange.upperBound
                    if end < oldEnd {
                        UnsafeMutableRawBufferPointer(rebasing: bytes[end..<oldEnd]).initializeMemory(as: UInt8.self, repeating: 0)
                    }
                    return .done
                }
                // Does not fit: the old element becomes padding, the new one goes at the end.
                UnsafeMutableRawBufferPointer(rebasing: bytes[existing.headerOffset..<existing.dataRange.upperBound])
                    .initializeMemory(as: UInt8.self, repeating: 0)
                if existing.dataRange.upperBound == lastEnd { lastEnd = existing.headerOffset }
            }
            let size = headerSize + value.count
            if lastEnd + size <= block.upperBound {
                Self.writeElement(into: bytes, at: lastEnd, id: id, value: value, form: form)
                return .done
            }
            let missing = lastEnd + size - block.upperBound
            return .grow(offset: block.upperBound, count: (missing + 3) & ~3, elementOffset: lastEnd, form: form, newBlock: false)
        }
        guard case .grow(let offset, let count, let elementOffset, let form, let newBlock) = plan else {
            if case .done = plan { return true }
            return false
        }
        let oldLength = readableBytes
        writeRepeatingByte(0, count: count)
        withUnsafeMutableReadableBytes { bytes in
            // Move everything from `offset` (payload and padding) up by `count`, zero the gap.
            guard let base = bytes.baseAddress else { return }  // never nil: at least a 12-byte header
            (base + offset + count).copyMemory(from: base + offset, byteCount: oldLength - offset)
            UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<(offset + count)]).initializeMemory(as: UInt8.self, repeating: 0)
            if newBlock {
                bytes[0] |= 0x10
                bytes.storeBytes(of: (form == .oneByte ? UInt16(0xBEDE) : UInt16(0x1000)).bigEndian, toByteOffset: offset, as: UInt16.self)
                bytes.storeBytes(of: UInt16((count - 4) / 4).bigEndian, toByteOffset: offset + 2, as: UInt16.self)
            } else {
                // The block header sits 4 bytes before its data; find it from the CSRC count.
                let blockHeader = 12 + Int(bytes[0] & 0x0F) * 4
                let words = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: blockHeader + 2, as: UInt16.self))
                // words counts 32-bit words of a packet that fits in this buffer (a datagram,
                // < 2^16 bytes, so words < 2^14), and count is a few words: the sum fits; `&+`
                // and truncation keep a malformed block from trapping anyway.
                bytes.storeBytes(of: (words &+ UInt16(truncatingIfNeeded: count / 4)).bigEndian, toByteOffset: blockHeader + 2, as: UInt16.self)
            }
            Self.writeElement(into: bytes, at: elementOffset, id: id, value: value, form: form)
        }
        return true
    }

    private static func representable(id: UInt8, length: Int, form: RTPHeaderExtensionForm) -> Bool {
        switch form {
        case .oneByte: id <= 14 && (1...16).contains(length)
        case .twoByte: length <= 255
        }
    }

    private static func writeElement(
        into bytes: UnsafeMutableRawBufferPointer,
        at offset: Int,
        id: UInt8,
        value: [UInt8],
        form: RTPHeaderExtensionForm
    ) {
        var position = offset
        switch form {
        case .oneByte:
            bytes[position] = id << 4 | UInt8(value.count - 1)
            position += 1
        case .twoByte:
            bytes[position] = id
            bytes[position + 1] = UInt8(value.count)
            position += 2
        }
        for byte in value {
            bytes[position] = byte
            position += 1
        }
    }
}
