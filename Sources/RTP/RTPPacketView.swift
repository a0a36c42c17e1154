// RTP fixed header (RFC 3550 §5.1) and header extensions (RFC 8285):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           timestamp                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |           synchronization source (SSRC) identifier            |
//   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//   |            contributing source (CSRC) identifiers             |
//   |                             ....                              |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  0xBEDE (one-byte) / 0x100x (two-byte)  |      length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  ID | len |  data ...   (one-byte form: ID 1–14, len = L-1)    |
//
// A view over bytes the caller owns: parsing records offsets only, setters write in place.

public struct RTPPacketView {
    public let base: UnsafeMutableRawPointer
    public let length: Int
    /// Offset of the payload (after CSRCs and the extension block).
    public let payloadOffset: Int
    /// The extension block (after its 4-byte header) and its profile, when present.
    public let extensionOffset: Int
    public let extensionLength: Int
    public let extensionProfile: UInt16

    /// nil when the bytes are not a valid RTP packet.
    @inline(__always)
    public init?(_ base: UnsafeMutableRawPointer, length: Int) {
        guard length >= 12 else { return nil }
        let b0 = base.load(as: UInt8.self)
        guard b0 >> 6 == 2 else { return nil }
        var offset = 12 + Int(b0 & 0x0F) * 4
        guard offset <= length else { return nil }
        var extOffset = 0, extLength = 0
        var profile: UInt16 = 0
        if b0 & 0x10 != 0 {
            guard offset + 4 <= length else { return nil }
            profile = UInt16(base.load(fromByteOffset: offset, as: UInt8.self)) << 8 | UInt16(base.load(fromByteOffset: offset + 1, as: UInt8.self))
            let words = Int(base.load(fromByteOffset: offset + 2, as: UInt8.self)) << 8 | Int(base.load(fromByteOffset: offset + 3, as: UInt8.self))
            extOffset = offset + 4
            extLength = words * 4
            offset = extOffset + extLength
            guard offset <= length else { return nil }
        }
        var end = length
        if b0 & 0x20 != 0 {
            let padding = Int(base.load(fromByteOffset: length - 1, as: UInt8.self))
            guard padding > 0, offset + padding <= length else { return nil }
            end -= padding
        }
        _ = end
        self.base = base
        self.length = length
        self.payloadOffset = offset
        self.extensionOffset = extOffset
        self.extensionLength = extLength
        self.extensionProfile = profile
    }

    @inline(__always) func u8(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }
    @inline(__always) func set8(_ i: Int, _ v: UInt8) { base.storeBytes(of: v, toByteOffset: i, as: UInt8.self) }

    public var payloadType: UInt8 {
        @inline(__always) get { u8(1) & 0x7F }
        nonmutating set { set8(1, (u8(1) & 0x80) | (newValue & 0x7F)) }
    }

    public var marker: Bool { u8(1) & 0x80 != 0 }

    public var sequenceNumber: UInt16 {
        @inline(__always) get { UInt16(u8(2)) << 8 | UInt16(u8(3)) }
        nonmutating set { set8(2, UInt8(newValue >> 8)); set8(3, UInt8(newValue & 0xFF)) }
    }

    public var timestamp: UInt32 {
        @inline(__always) get { UInt32(u8(4)) << 24 | UInt32(u8(5)) << 16 | UInt32(u8(6)) << 8 | UInt32(u8(7)) }
        nonmutating set { set8(4, UInt8(newValue >> 24)); set8(5, UInt8(newValue >> 16 & 0xFF)); set8(6, UInt8(newValue >> 8 & 0xFF)); set8(7, UInt8(newValue & 0xFF)) }
    }

    public var ssrc: UInt32 {
        @inline(__always) get { UInt32(u8(8)) << 24 | UInt32(u8(9)) << 16 | UInt32(u8(10)) << 8 | UInt32(u8(11)) }
        nonmutating set { set8(8, UInt8(newValue >> 24)); set8(9, UInt8(newValue >> 16 & 0xFF)); set8(10, UInt8(newValue >> 8 & 0xFF)); set8(11, UInt8(newValue & 0xFF)) }
    }

    public var isOneByteExtension: Bool { extensionProfile == 0xBEDE }
    public var isTwoByteExtension: Bool { extensionProfile & 0xFFF0 == 0x1000 }

    /// Visits each extension element: (offset of its id byte, id, data offset, data length).
    /// Returns early when `body` returns false.
    @inline(__always)
    public func forEachExtension(_ body: (Int, Int, Int, Int) -> Bool) {
        guard extensionLength > 0 else { return }
        var i = extensionOffset
        let end = extensionOffset + extensionLength
        if isOneByteExtension {
            while i < end {
                let byte = u8(i)
                if byte == 0 { i += 1; continue }  // padding
                let id = Int(byte >> 4)
                if id == 15 { return }  // reserved: stop (RFC 8285 §4.2)
                let len = Int(byte & 0x0F) + 1
                guard i + 1 + len <= end else { return }
                if !body(i, id, i + 1, len) { return }
                i += 1 + len
            }
        } else if isTwoByteExtension {
            while i + 1 < end {
                let id = Int(u8(i))
                if id == 0 { i += 1; continue }
                let len = Int(u8(i + 1))
                guard i + 2 + len <= end else { return }
                if !body(i, id, i + 2, len) { return }
                i += 2 + len
            }
        }
    }

    /// Rewrites extension ids through `map` (old id → new id; 0 = unknown to the consumer: the
    /// element is neutralised as padding so the consumer ignores it).
    @inline(__always)
    public func remapExtensionIds(_ map: UnsafePointer<UInt8>) {
        if isOneByteExtension {
            forEachExtension { idOffset, id, _, len in
                let newId = map[id]
                if newId != 0, newId < 15 {
                    set8(idOffset, newId << 4 | UInt8(len - 1))
                } else {
                    // Unknown to the consumer: blank the element (id 0 bytes are padding).
                    for k in 0...len { set8(idOffset + k, 0) }
                }
                return true
            }
        } else if isTwoByteExtension {
            forEachExtension { idOffset, id, _, _ in
                set8(idOffset, map[id])
                return true
            }
        }
    }

    /// RFC 6464 audio level of extension `id`: (voice activity, level in -dBov 0…127).
    @inline(__always)
    public func audioLevel(id: Int) -> (voice: Bool, level: Int)? {
        var result: (Bool, Int)?
        forEachExtension { _, extId, data, len in
            guard extId == id, len >= 1 else { return true }
            let byte = u8(data)
            result = (byte & 0x80 != 0, Int(byte & 0x7F))
            return false
        }
        return result
    }
}
