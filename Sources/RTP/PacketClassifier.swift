/// RFC 7983 §7 demultiplexing by the first byte of a datagram (and RFC 5761 §4 for RTCP):
///
///                  +----------------+
///                  |        [0..3] -+--> forward to STUN
///                  |      [16..19] -+--> forward to ZRTP
///      packet -->  |      [20..63] -+--> forward to DTLS
///                  |      [64..79] -+--> forward to TURN Channel
///                  |    [128..191] -+--> forward to RTP/RTCP
///                  +----------------+
public enum PacketClassifier {
    public enum Kind: Sendable, Hashable { case stun, dtls, rtp, rtcp, unknown }

    @inline(__always)
    public static func classify(_ bytes: UnsafeRawBufferPointer) -> Kind {
        guard let first = bytes.first else { return .unknown }
        switch first {
        case 0...3: return .stun
        case 20...63: return .dtls
        case 128...191:
            guard bytes.count >= 2 else { return .unknown }
            // RTCP packet types 192–223 (RFC 5761 §4: RTP payload types 64–95 are not used).
            return (192...223).contains(bytes[1]) ? .rtcp : .rtp
        default: return .unknown
        }
    }
}
