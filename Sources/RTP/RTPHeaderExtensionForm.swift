/// The RFC 8285 element format of an RTP header extension block, chosen by its profile value.
public enum RTPHeaderExtensionForm: Sendable, Hashable {
    /// RFC 8285 §4.2: profile 0xBEDE, elements with a 4-bit id (1–14) and 4-bit length-minus-one.
    case oneByte
    /// RFC 8285 §4.3: profile 0x100 in the top 12 bits (0x1000–0x100F; the low 4 bits are
    /// "appbits"), elements with an 8-bit id (1–255) and 8-bit length.
    case twoByte

    /// The form for a "defined by profile" value, nil when the block is not RFC 8285 (e.g. a
    /// private profile), in which case its elements are not interpreted.
    @inlinable
    public init?(profile: UInt16) {
        if profile == 0xBEDE {
            self = .oneByte
        } else if profile & 0xFFF0 == 0x1000 {
            self = .twoByte
        } else {
            return nil
        }
    }
}

/// One element of an RFC 8285 header extension block, as offsets into the packet's bytes.
public struct RTPHeaderExtensionElement: Sendable, Hashable {
    /// The local identifier (1–14 in the one-byte form, 1–255 in the two-byte form).
    public var id: UInt8
    /// Offset of the element's first header byte.
    public var headerOffset: Int
    /// The element's data bytes.
    public var dataRange: Range<Int>

    @inlinable
    public init(id: UInt8, headerOffset: Int, dataRange: Range<Int>) {
        self.id = id
        self.headerOffset = headerOffset
        self.dataRange = dataRange
    }
}

/// Walks the elements of an RFC 8285 header extension block without allocating.
///
/// One-byte form (RFC 8285 §4.2), elements packed back to back, zero bytes are padding:
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |       0xBE    |    0xDE       |           length=3            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  ID   | L=0   |     data      |  ID   |  L=1  |   data...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Two-byte form (RFC 8285 §4.3):
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         0x100         |appbits|           length=3            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      ID       |     L=0       |     ID        |     L=1       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |       data    |    0 (pad)    |       ID      |      L=4      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Iteration stops at the one-byte reserved id 15 ("processing of the entire extension should
/// terminate at that point", §4.2) and at an element whose length runs past the block (malformed
/// tail: the elements before it are still returned, as Chrome and mediasoup do).
public struct RTPHeaderExtensionIterator: IteratorProtocol, Sequence {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline let form: RTPHeaderExtensionForm?
    @usableFromInline var offset: Int
    @usableFromInline let end: Int

    @inlinable
    init(bytes: UnsafeRawBufferPointer, form: RTPHeaderExtensionForm?, range: Range<Int>) {
        self.bytes = bytes
        self.form = form
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    @inlinable
    public mutating func next() -> RTPHeaderExtensionElement? {
        guard let form else { return nil }
        while offset < end {
            let first = bytes[offset]
            if first == 0 {  // padding, both forms
                offset += 1
                continue
            }
            // The element's id, data length and where its data starts; nil ends the iteration.
            let header: (id: UInt8, length: Int, dataStart: Int)?
            switch form {
            case .oneByte:
                let id = first >> 4
                header = id == 15 ? nil : (id, Int(first & 0x0F) + 1, offset + 1)
            case .twoByte:
                header = offset + 2 <= end ? (first, Int(bytes[offset + 1]), offset + 2) : nil
            }
            guard case (let id, let length, let dataStart)? = header, dataStart + length <= end else {
                offset = end
                return nil
            }
            let element = RTPHeaderExtensionElement(id: id, headerOffset: offset, dataRange: dataStart..<(dataStart + length))
            offset = dataStart + length
            return element
        }
        return nil
    }
}
