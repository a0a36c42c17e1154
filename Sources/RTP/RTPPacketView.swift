/// A parsed, mutable view over one RTP packet's bytes: the validated header layout plus in-place
/// getters and setters. It never copies the packet; fields are read and written straight in the
/// caller's memory, so forwarding can rewrite SSRC / sequence number / timestamp / payload type /
/// extension ids in a few nanoseconds (mediasoup `RtpPacket`, style R4).
///
/// RFC 3550 §5.1:
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           timestamp                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           synchronization source (SSRC) identifier            |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |            contributing source (CSRC) identifiers             |
/// |                             ....                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      defined by profile       |           length              |   (if X, RFC 3550 §5.3.1)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        header extension                       |
/// |                             ....                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       payload ...  | padding ... | pad count  |   (if P)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The view borrows the memory it was created from: it is only valid inside the
/// `withUnsafeMutableReadableBytes` (or similar) closure that produced the pointer. Use
/// `ByteBuffer.withRTPPacketView(_:)` to get that scoping right.
public struct RTPPacketView {
    /// The whole packet (header, payload and padding).
    public let bytes: UnsafeMutableRawBufferPointer
    @usableFromInline let extensionOffset: Int  // offset of the 4-byte extension header; 0 when X = 0
    @usableFromInline let extensionLength: Int  // bytes of extension data after that header
    /// Offset of the first payload byte (= header length including CSRCs and extension).
    public let payloadOffset: Int
    /// Number of padding bytes at the end of the packet, including the count byte itself (0 when P = 0).
    public let paddingLength: Int

    /// Validates `bytes` as an RTP packet and records its layout; nil when it is not version 2 or is
    /// truncated anywhere (CSRC list, extension header, extension length, padding count).
    @inlinable
    public init?(_ bytes: UnsafeMutableRawBufferPointer) {
        let count = bytes.count
        guard count >= 12 else { return nil }
        let b0 = bytes[0]
        guard b0 >> 6 == 2 else { return nil }
        var offset = 12 + Int(b0 & 0x0F) * 4
        guard offset <= count else { return nil }
        if b0 & 0x10 != 0 {
            guard offset + 4 <= count else { return nil }
            let words = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let extensionOffset = offset
            offset += 4 + words * 4
            guard offset <= count else { return nil }
            self.extensionOffset = extensionOffset
            self.extensionLength = words * 4
        } else {
            self.extensionOffset = 0
            self.extensionLength = 0
        }
        if b0 & 0x20 != 0 {
            // RFC 3550 §5.1: the last octet counts the padding octets including itself, so 0 is invalid.
            let padding = Int(bytes[count - 1])
            guard padding > 0, offset + padding <= count else { return nil }
            self.paddingLength = padding
        } else {
            self.paddingLength = 0
        }
        self.bytes = bytes
        self.payloadOffset = offset
    }

    /// Validates `length` bytes at `base` (e.g. a scratch buffer SRTP wrote into); see ``init(_:)``.
    @inlinable
    public init?(_ base: UnsafeMutableRawPointer, length: Int) {
        self.init(UnsafeMutableRawBufferPointer(start: base, count: length))
    }

    // MARK: - Fixed header

    /// Whether the first byte looks like RTP version 2 with enough bytes for a fixed header
    /// (mediasoup `RtpPacket::IsRtp`); classification, not validation.
    @inlinable
    public static func looksLikeRTP(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 12 && bytes[0] >> 6 == 2 && !(192...223).contains(bytes[1])
    }

    /// The padding (P) bit.
    @inlinable public var hasPadding: Bool { bytes[0] & 0x20 != 0 }
    /// The extension (X) bit.
    @inlinable public var hasExtension: Bool { bytes[0] & 0x10 != 0 }
    /// The CSRC count (CC).
    @inlinable public var csrcCount: Int { Int(bytes[0] & 0x0F) }

    /// The marker (M) bit.
    @inlinable
    public var marker: Bool {
        get { bytes[1] & 0x80 != 0 }
        nonmutating set { bytes[1] = newValue ? bytes[1] | 0x80 : bytes[1] & 0x7F }
    }

    /// The 7-bit payload type. Setting keeps the marker bit; values above 127 are a programmer error.
    @inlinable
    public var payloadType: UInt8 {
        get { bytes[1] & 0x7F }
        nonmutating set {
            precondition(newValue < 128, "RTP payload type \(newValue) does not fit in 7 bits")
            bytes[1] = (bytes[1] & 0x80) | newValue
        }
    }

    /// The 16-bit sequence number.
    @inlinable
    public var sequenceNumber: UInt16 {
        get { UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) }
        nonmutating set { bytes.storeBytes(of: newValue.bigEndian, toByteOffset: 2, as: UInt16.self) }
    }

    /// The 32-bit RTP timestamp.
    @inlinable
    public var timestamp: UInt32 {
        get { UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) }
        nonmutating set { bytes.storeBytes(of: newValue.bigEndian, toByteOffset: 4, as: UInt32.self) }
    }

    /// The synchronization source.
    @inlinable
    public var ssrc: UInt32 {
        get { UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
        nonmutating set { bytes.storeBytes(of: newValue.bigEndian, toByteOffset: 8, as: UInt32.self) }
    }

    /// The contributing source at `index` (`0 ..< csrcCount`; out of range is a programmer error).
    @inlinable
    public func csrc(at index: Int) -> UInt32 {
        precondition(index >= 0 && index < csrcCount, "CSRC index \(index) out of range")
        return UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 12 + index * 4, as: UInt32.self))
    }

    // MARK: - Payload

    /// The header length: fixed header, CSRCs and header extension.
    @inlinable public var headerLength: Int { payloadOffset }

    /// Byte range of the payload inside ``bytes`` (excludes padding).
    @inlinable public var payloadRange: Range<Int> { payloadOffset..<(bytes.count - paddingLength) }

    /// The payload bytes (excludes padding), in place.
    @inlinable
    public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: bytes[payloadRange])
    }

    // MARK: - Header extension block (RFC 3550 §5.3.1)

    /// The 16-bit "defined by profile" value of the extension block, nil when X = 0.
    @inlinable
    public var extensionProfile: UInt16? {
        guard hasExtension else { return nil }
        return UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: extensionOffset, as: UInt16.self))
    }

    /// Byte range of the extension data (after the 4-byte profile/length word); empty when X = 0.
    @inlinable
    public var extensionDataRange: Range<Int> {
        guard hasExtension else { return payloadOffset..<payloadOffset }
        return (extensionOffset + 4)..<(extensionOffset + 4 + extensionLength)
    }
}
