extension RTPPacketView {
    /// The RFC 8285 form of the extension block, nil when there is no block or its profile is not
    /// 0xBEDE / 0x100X.
    @inlinable
    public var extensionForm: RTPHeaderExtensionForm? {
        guard let profile = extensionProfile else { return nil }
        return RTPHeaderExtensionForm(profile: profile)
    }

    /// The RFC 8285 elements of the extension block (empty when there are none).
    @inlinable
    public var extensionElements: RTPHeaderExtensionIterator {
        RTPHeaderExtensionIterator(bytes: UnsafeRawBufferPointer(bytes), form: extensionForm, range: extensionDataRange)
    }

    /// The data range of the first extension element with local id `id`, nil when absent.
    @inlinable
    public func extensionData(id: UInt8) -> Range<Int>? {
        guard id != 0 else { return nil }
        var iterator = extensionElements
        while let element = iterator.next() {
            if element.id == id { return element.dataRange }
        }
        return nil
    }

    /// The RFC 6464 audio level in extension `id`, nil when absent or empty.
    @inlinable
    public func audioLevel(extensionID id: UInt8) -> RTPAudioLevel? {
        guard let range = extensionData(id: id), !range.isEmpty else { return nil }
        return RTPAudioLevel(byte: bytes[range.lowerBound])
    }

    /// The RFC 8843 `sdes:mid` value in extension `id`, nil when absent or not UTF-8.
    /// (Allocates a String; the forwarding path should compare ``extensionData(id:)`` bytes instead.)
    public func mid(extensionID id: UInt8) -> String? {
        guard let range = extensionData(id: id), !range.isEmpty else { return nil }
        return String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Rewrites every element's id through `map`, in place.
    ///
    /// Elements whose id maps to 0 are removed by zeroing their header and data: zero bytes are
    /// padding in both RFC 8285 forms (§4.2, §4.3), so the block stays valid without moving bytes.
    /// A one-byte-form element mapped to an id above 14 cannot be represented and is removed too.
    @inlinable
    public func remapExtensionIDs(_ map: RTPHeaderExtensionIDMap) {
        guard let form = extensionForm else { return }
        // One borrow of the table for the whole walk: no per-element retain or bounds check
        // (ids are UInt8 and the table always has 256 entries).
        map.table.withUnsafeBufferPointer { table in
            var iterator = extensionElements
            while let element = iterator.next() {
                let newID = table[Int(element.id)]
                if newID == 0 || (form == .oneByte && newID > 14) {
                    let start = element.headerOffset
                    let end = element.dataRange.upperBound
                    UnsafeMutableRawBufferPointer(rebasing: bytes[start..<end]).initializeMemory(as: UInt8.self, repeating: 0)
                    continue
                }
                switch form {
                case .oneByte: bytes[element.headerOffset] = newID << 4 | (bytes[element.headerOffset] & 0x0F)
                case .twoByte: bytes[element.headerOffset] = newID
                }
            }
        }
    }
}
