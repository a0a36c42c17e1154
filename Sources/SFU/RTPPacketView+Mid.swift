import RTP

extension RTPPacketView {
    /// Writes `mid` into the `sdes:mid` element `id` (RFC 8843 §15) in place when it has the same
    /// length; otherwise removes the element (zero bytes are padding in both RFC 8285 forms), so
    /// the receiver falls back to SSRC demultiplexing instead of routing by a wrong MID.
    @inline(__always)
    func rewriteMid(id: UInt8, to mid: [UInt8]) {
        var iterator = extensionElements
        while let element = iterator.next() {
            guard element.id == id else { continue }
            let range = element.dataRange
            if range.count == mid.count && !mid.isEmpty {
                for (offset, byte) in mid.enumerated() { bytes[range.lowerBound + offset] = byte }
            } else {
                for index in element.headerOffset..<range.upperBound { bytes[index] = 0 }
            }
            return
        }
    }
}
