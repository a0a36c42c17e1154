/// What a datagram that arrived on a WebRTC UDP port carries, decided from its first bytes.
public enum PacketKind: UInt8, Sendable, Hashable, CustomStringConvertible {
    case stun
    case zrtp
    case dtls
    case turnChannel
    case rtp
    case rtcp
    case unknown

    public var description: String {
        switch self {
        case .stun: "STUN"
        case .zrtp: "ZRTP"
        case .dtls: "DTLS"
        case .turnChannel: "TURN-channel"
        case .rtp: "RTP"
        case .rtcp: "RTCP"
        case .unknown: "unknown"
        }
    }
}

/// RFC 7983 first-byte demultiplexing of everything that shares one WebRTC 5-tuple.
///
/// RFC 7983 §7 (updating RFC 5764 §5.1.2):
/// ```
///                  +----------------+
///                  |        [0..3] -+--> forward to STUN
///                  |                |
///                  |      [16..19] -+--> forward to ZRTP
///                  |                |
///      packet -->  |      [20..63] -+--> forward to DTLS
///                  |                |
///                  |      [64..79] -+--> forward to TURN Channel
///                  |                |
///                  |    [128..191] -+--> forward to RTP/RTCP
///                  +----------------+
/// ```
/// RTP and RTCP share the 128–191 range; RFC 5761 §4 separates them by the second byte: RTCP packet
/// types 192–223 (FIR 192, SR 200 … PSFB 206, XR 207) never collide with an RTP payload type
/// when the marker bit is included, because dynamic/static RTP payload types used with rtcp-mux
/// must avoid 64–95 (which, with the marker bit set, is 192–223).
///
/// Pure and allocation-free: this runs once per received datagram, before any parsing (style R5).
public enum PacketClassifier {
    /// Classifies by the first two bytes (`secondByte` only matters for 128–191).
    @inlinable
    public static func classify(firstByte: UInt8, secondByte: UInt8) -> PacketKind {
        switch firstByte {
        case 0...3: return .stun
        case 16...19: return .zrtp
        case 20...63: return .dtls
        case 64...79: return .turnChannel
        case 128...191: return (192...223).contains(secondByte) ? .rtcp : .rtp
        default: return .unknown
        }
    }

    /// Classifies a datagram. Anything shorter than the smallest header it could be is `.unknown`
    /// (STUN 20, RTP/RTCP 12 / 4 bytes; DTLS 13), so callers can trust the kind before parsing.
    @inlinable
    public static func classify(_ bytes: UnsafeRawBufferPointer) -> PacketKind {
        guard bytes.count >= 2 else { return .unknown }
        let kind = classify(firstByte: bytes[0], secondByte: bytes[1])
        switch kind {
        case .stun where bytes.count < 20: return .unknown
        case .dtls where bytes.count < 13: return .unknown
        case .rtp where bytes.count < 12: return .unknown
        case .rtcp where bytes.count < 4: return .unknown
        default: return kind
        }
    }
}
