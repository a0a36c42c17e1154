/// A producer's counters (mediasoup `producer.getStats()`, reduced to what audio rooms need).
public struct ProducerStats: Sendable, Hashable, Codable {
    public var id: String
    public var ssrc: UInt32?
    public var paused: Bool
    public var packets: UInt64
    public var bytes: UInt64
    /// RFC 3550 A.3 cumulative loss.
    public var packetsLost: Int64
    /// RFC 3550 A.8 interarrival jitter, in RTP timestamp units.
    public var jitter: UInt32
    /// Fraction lost (0…255) in the last receiver report we sent.
    public var fractionLost: UInt8
    /// Last RFC 6464 level (dBov).
    public var audioLevel: Int?
}

/// A consumer's counters.
public struct ConsumerStats: Sendable, Hashable, Codable {
    public var id: String
    public var producerId: String
    public var ssrc: UInt32
    public var paused: Bool
    public var producerPaused: Bool
    public var packets: UInt64
    public var bytes: UInt64
    public var retransmissions: UInt64
    /// Loss and jitter the receiver reported in its RRs.
    public var reportedPacketsLost: Int32
    public var reportedJitter: UInt32
    /// Round-trip time from RR (LSR/DLSR), milliseconds.
    public var roundTripTimeMs: Double?
}

/// A transport's state and counters.
public struct TransportStats: Sendable, Hashable, Codable {
    public var id: String
    public var state: String
    public var iceState: String
    public var dtlsState: String
    public var remoteAddress: String?
    public var srtpProfile: String?
    public var bytesReceived: UInt64
    public var bytesSent: UInt64
    public var producerIds: [String]
    public var consumerIds: [String]
}

/// A pipe transport's state and counters.
public struct PipeTransportStats: Sendable, Hashable, Codable {
    public var id: String
    public var remoteAddress: String?
    /// nil when SRTP is off.
    public var srtpProfile: String?
    public var bytesReceived: UInt64
    public var bytesSent: UInt64
    /// Pipe producers (copies of the remote router's producers).
    public var producerIds: [String]
    /// Pipe consumers (local producers sent to the remote router).
    public var consumerIds: [String]
}

/// Everything of one router (`MediaRouter.stats()`).
public struct RouterStats: Sendable, Hashable, Codable {
    public var id: String
    public var transports: [TransportStats]
    public var producers: [ProducerStats]
    public var consumers: [ConsumerStats]
    public var pipeTransports: [PipeTransportStats]

    public init(
        id: String, transports: [TransportStats] = [], producers: [ProducerStats] = [], consumers: [ConsumerStats] = [],
        pipeTransports: [PipeTransportStats] = []
    ) {
        self.id = id
        self.transports = transports
        self.producers = producers
        self.consumers = consumers
        self.pipeTransports = pipeTransports
    }
}
