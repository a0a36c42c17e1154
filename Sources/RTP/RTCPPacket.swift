public import NIOCore

/// One packet of an RTCP compound packet (RFC 3550 §6, RFC 4585 §6), decoded.
///
/// Every RTCP packet starts with the same 4-byte header (RFC 3550 §6.4.1):
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P| RC/FMT  |      PT       |  length (32-bit words − 1)    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// RTCP is a few packets per second per stream, so these are plain values (arrays allowed); the
/// per-packet fast path is RTP (``RTPPacketView``).
public enum RTCPPacket: Sendable, Hashable {
    /// PT 200 (RFC 3550 §6.4.1).
    case senderReport(RTCPSenderReport)
    /// PT 201 (RFC 3550 §6.4.2).
    case receiverReport(RTCPReceiverReport)
    /// PT 202 (RFC 3550 §6.5).
    case sourceDescription(RTCPSourceDescription)
    /// PT 203 (RFC 3550 §6.6).
    case goodbye(RTCPGoodbye)
    /// PT 205 FMT 1 (RFC 4585 §6.2.1).
    case genericNACK(RTCPGenericNACK)
    /// PT 206 FMT 1 (RFC 4585 §6.3.1).
    case pictureLossIndication(RTCPPictureLossIndication)
    /// PT 205 FMT 15, draft-holmer-rmcat-transport-wide-cc-extensions-01: recognised, not decoded
    /// (audio rooms do not run send-side bandwidth estimation). Not written by the builders.
    case transportWideCC(senderSSRC: UInt32, mediaSSRC: UInt32)
    /// PT 206 FMT 15 with the "REMB" identifier, draft-alvestrand-rmcat-remb: recognised, not
    /// decoded. Not written by the builders.
    case receiverEstimatedMaxBitrate(senderSSRC: UInt32)
    /// Anything else (APP, XR, other feedback formats): header fields and the body after the
    /// 4-byte header, padding removed. Written back verbatim by the builder.
    case unknown(packetType: UInt8, count: UInt8, body: ByteBuffer)
}

/// RTCP packet type numbers (RFC 3550 §12.1, RFC 4585 §6.1).
public enum RTCPPacketType {
    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let goodbye: UInt8 = 203
    public static let application: UInt8 = 204
    public static let transportFeedback: UInt8 = 205
    public static let payloadSpecificFeedback: UInt8 = 206
    public static let extendedReport: UInt8 = 207
}

/// A reception report block, carried in SR and RR (RFC 3550 §6.4.1):
/// ```
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |                 SSRC_1 (SSRC of first source)                 |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | fraction lost |       cumulative number of packets lost       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           extended highest sequence number received           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      interarrival jitter                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         last SR (LSR)                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   delay since last SR (DLSR)                  |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// ```
public struct RTCPReportBlock: Sendable, Hashable {
    public var ssrc: UInt32
    /// Fraction of packets lost since the previous report, in 1/256 units.
    public var fractionLost: UInt8
    /// Cumulative packets lost: a signed 24-bit value (duplicates can make it negative).
    public var cumulativeLost: Int32
    public var extendedHighestSequenceNumber: UInt32
    /// Interarrival jitter in RTP timestamp units (RFC 3550 §6.4.1, A.8).
    public var jitter: UInt32
    /// The middle 32 bits of the NTP timestamp of the last SR received from this source.
    public var lastSenderReport: UInt32
    /// Delay since that SR, in 1/65536 seconds.
    public var delaySinceLastSenderReport: UInt32

    public init(
        ssrc: UInt32,
        fractionLost: UInt8,
        cumulativeLost: Int32,
        extendedHighestSequenceNumber: UInt32,
        jitter: UInt32,
        lastSenderReport: UInt32,
        delaySinceLastSenderReport: UInt32
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)
        self.extendedHighestSequenceNumber = extendedHighestSequenceNumber
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }
}

/// SR: sender info plus report blocks (RFC 3550 §6.4.1):
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|    RC   |   PT=SR=200   |             length            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         SSRC of sender                        |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |              NTP timestamp, most significant word             |
/// |             NTP timestamp, least significant word             |
/// |                         RTP timestamp                         |
/// |                     sender's packet count                     |
/// |                      sender's octet count                     |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |                 report blocks (RC × 24 bytes)                 |
/// ```
public struct RTCPSenderReport: Sendable, Hashable {
    public var ssrc: UInt32
    /// 64-bit NTP timestamp (seconds since 1900 in the high word, fraction in the low word).
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    public var reportBlocks: [RTCPReportBlock]

    public init(
        ssrc: UInt32,
        ntpTimestamp: UInt64,
        rtpTimestamp: UInt32,
        packetCount: UInt32,
        octetCount: UInt32,
        reportBlocks: [RTCPReportBlock] = []
    ) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reportBlocks = reportBlocks
    }

    /// The middle 32 bits of the NTP timestamp: what a receiver echoes as LSR.
    public var compactNTPTimestamp: UInt32 { UInt32(truncatingIfNeeded: ntpTimestamp >> 16) }
}

/// RR: the reporter's SSRC plus report blocks (RFC 3550 §6.4.2), PT 201.
public struct RTCPReceiverReport: Sendable, Hashable {
    public var ssrc: UInt32
    public var reportBlocks: [RTCPReportBlock]

    public init(ssrc: UInt32, reportBlocks: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.reportBlocks = reportBlocks
    }
}

/// SDES (RFC 3550 §6.5): chunks of an SSRC/CSRC followed by items, each chunk ended by a null
/// item and padded to 32 bits:
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|    SC   |  PT=SDES=202  |             length            |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |                          SSRC/CSRC_1                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |    CNAME=1    |     length    | user and domain name        ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct RTCPSourceDescription: Sendable, Hashable {
    /// One SDES item (RFC 3550 §6.5.1–6.5.8); type 1 is CNAME.
    public struct Item: Sendable, Hashable {
        public var type: UInt8
        public var value: [UInt8]

        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = value
        }

        /// A CNAME item (RFC 3550 §6.5.1), cut to the 255 bytes an item can hold: the CNAME comes
        /// from the client's `rtpParameters.rtcp.cname`, and a longer one must not reach the
        /// builder's precondition (it crashed the worker at the first sender report).
        public static func cname(_ cname: String) -> Item { Item(type: 1, value: Array(cname.utf8.prefix(255))) }
    }

    /// The items describing one source.
    public struct Chunk: Sendable, Hashable {
        public var ssrc: UInt32
        public var items: [Item]

        public init(ssrc: UInt32, items: [Item]) {
            self.ssrc = ssrc
            self.items = items
        }

        /// The CNAME item's text, nil when absent or not UTF-8.
        public var cname: String? {
            guard let item = items.first(where: { $0.type == 1 }) else { return nil }
            return String(validating: item.value, as: UTF8.self)
        }
    }

    public var chunks: [Chunk]

    public init(chunks: [Chunk]) {
        self.chunks = chunks
    }
}

/// BYE (RFC 3550 §6.6): the SSRCs leaving and an optional reason, PT 203.
public struct RTCPGoodbye: Sendable, Hashable {
    public var ssrcs: [UInt32]
    public var reason: String?

    public init(ssrcs: [UInt32], reason: String? = nil) {
        self.ssrcs = ssrcs
        self.reason = reason
    }
}

/// Generic NACK (RFC 4585 §6.2.1), PT 205 FMT 1. Each FCI entry names a lost packet (PID) and a
/// bitmask of the 16 following ones (BLP, bit i set ⇒ PID+i+1 lost too):
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|  FMT=1  |    PT=205     |          length               |
/// |                  SSRC of packet sender                        |
/// |                  SSRC of media source                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            PID                |             BLP               |   (× n)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct RTCPGenericNACK: Sendable, Hashable {
    /// One FCI entry.
    public struct Item: Sendable, Hashable {
        public var packetID: UInt16
        public var bitmask: UInt16

        public init(packetID: UInt16, bitmask: UInt16) {
            self.packetID = packetID
            self.bitmask = bitmask
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var items: [Item]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, items: [Item]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.items = items
    }

    /// Packs `lostSequenceNumbers` (in the order given; duplicates ignored) into as few PID+BLP
    /// entries as a single forward pass allows, handling wrap-around.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, lostSequenceNumbers: some Sequence<UInt16>) {
        var items: [Item] = []
        for sequenceNumber in lostSequenceNumbers {
            if var last = items.last {
                let distance = sequenceNumber &- last.packetID
                if distance == 0 { continue }
                if distance <= 16 {
                    last.bitmask |= 1 << (distance - 1)
                    items[items.count - 1] = last
                    continue
                }
            }
            items.append(Item(packetID: sequenceNumber, bitmask: 0))
        }
        self.init(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, items: items)
    }

    /// Every sequence number this NACK reports lost, in FCI order.
    public var lostSequenceNumbers: [UInt16] {
        var result: [UInt16] = []
        for item in items {
            result.append(item.packetID)
            for bit in 0..<16 where item.bitmask & (1 << bit) != 0 {
                result.append(item.packetID &+ UInt16(bit + 1))
            }
        }
        return result
    }
}

/// Picture Loss Indication (RFC 4585 §6.3.1), PT 206 FMT 1, no FCI. (Audio-only rooms never need
/// it, but peers send it and tests build it.)
public struct RTCPPictureLossIndication: Sendable, Hashable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }
}
