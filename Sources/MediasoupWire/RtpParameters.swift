// Codable mirrors of mediasoup's RTP types (node/src/RtpParameters.ts), with mediasoup's names so
// they can be grepped against it (style.md §2). Property names equal the JSON keys; optional
// fields absent in the input stay absent in the output.

public enum MediaKind: String, Codable, Sendable, Hashable {
    case audio
    case video
}

/// A codec parameter value: mediasoup allows strings and numbers (integers must stay integers:
/// `useinbandfec: 1`, never `1.0`).
public enum RtpParameterValue: Codable, Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        }
    }

    public var intValue: Int? {
        switch self {
        case .int(let i): i
        case .double(let d) where d.rounded() == d: Int(d)
        case .string(let s): Int(s)
        default: nil
        }
    }
}

public struct RtcpFeedback: Codable, Sendable, Hashable {
    public var type: String
    public var parameter: String?
    public init(type: String, parameter: String? = nil) {
        self.type = type
        self.parameter = parameter
    }
}

public struct RtpCodecCapability: Codable, Sendable, Hashable {
    public var kind: MediaKind
    public var mimeType: String
    public var preferredPayloadType: Int?
    public var clockRate: Int
    public var channels: Int?
    public var parameters: [String: RtpParameterValue]?
    public var rtcpFeedback: [RtcpFeedback]?

    public init(kind: MediaKind, mimeType: String, preferredPayloadType: Int? = nil, clockRate: Int, channels: Int? = nil,
                parameters: [String: RtpParameterValue]? = nil, rtcpFeedback: [RtcpFeedback]? = nil) {
        self.kind = kind
        self.mimeType = mimeType
        self.preferredPayloadType = preferredPayloadType
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
        self.rtcpFeedback = rtcpFeedback
    }
}

public enum RtpHeaderExtensionDirection: String, Codable, Sendable, Hashable {
    case sendrecv, sendonly, recvonly, inactive
}

/// A header extension in RTP capabilities.
public struct RtpHeaderExtension: Codable, Sendable, Hashable {
    public var kind: MediaKind
    public var uri: String
    public var preferredId: Int
    public var preferredEncrypt: Bool?
    public var direction: RtpHeaderExtensionDirection?

    public init(kind: MediaKind, uri: String, preferredId: Int, preferredEncrypt: Bool? = false, direction: RtpHeaderExtensionDirection? = .sendrecv) {
        self.kind = kind
        self.uri = uri
        self.preferredId = preferredId
        self.preferredEncrypt = preferredEncrypt
        self.direction = direction
    }
}

public struct RtpCapabilities: Codable, Sendable, Hashable {
    public var codecs: [RtpCodecCapability]?
    public var headerExtensions: [RtpHeaderExtension]?

    public init(codecs: [RtpCodecCapability]? = nil, headerExtensions: [RtpHeaderExtension]? = nil) {
        self.codecs = codecs
        self.headerExtensions = headerExtensions
    }
}

public struct RtpCodecParameters: Codable, Sendable, Hashable {
    public var mimeType: String
    public var payloadType: Int
    public var clockRate: Int
    public var channels: Int?
    public var parameters: [String: RtpParameterValue]?
    public var rtcpFeedback: [RtcpFeedback]?

    public init(mimeType: String, payloadType: Int, clockRate: Int, channels: Int? = nil,
                parameters: [String: RtpParameterValue]? = nil, rtcpFeedback: [RtcpFeedback]? = nil) {
        self.mimeType = mimeType
        self.payloadType = payloadType
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
        self.rtcpFeedback = rtcpFeedback
    }
}

public struct RtpHeaderExtensionParameters: Codable, Sendable, Hashable {
    public var uri: String
    public var id: Int
    public var encrypt: Bool?
    public var parameters: [String: RtpParameterValue]?

    public init(uri: String, id: Int, encrypt: Bool? = false, parameters: [String: RtpParameterValue]? = nil) {
        self.uri = uri
        self.id = id
        self.encrypt = encrypt
        self.parameters = parameters
    }
}

public struct RtxParameters: Codable, Sendable, Hashable {
    public var ssrc: UInt32
}

public struct RtpEncodingParameters: Codable, Sendable, Hashable {
    public var ssrc: UInt32?
    public var rid: String?
    public var codecPayloadType: Int?
    public var rtx: RtxParameters?
    public var dtx: Bool?
    public var scalabilityMode: String?
    public var scaleResolutionDownBy: Double?
    public var maxBitrate: Int?

    public init(ssrc: UInt32? = nil, rid: String? = nil, codecPayloadType: Int? = nil, dtx: Bool? = nil) {
        self.ssrc = ssrc
        self.rid = rid
        self.codecPayloadType = codecPayloadType
        self.dtx = dtx
    }
}

public struct RtcpParameters: Codable, Sendable, Hashable {
    public var cname: String?
    public var reducedSize: Bool?
    public var mux: Bool?

    public init(cname: String? = nil, reducedSize: Bool? = nil, mux: Bool? = nil) {
        self.cname = cname
        self.reducedSize = reducedSize
        self.mux = mux
    }
}

public struct RtpParameters: Codable, Sendable, Hashable {
    public var mid: String?
    public var codecs: [RtpCodecParameters]
    public var headerExtensions: [RtpHeaderExtensionParameters]?
    public var encodings: [RtpEncodingParameters]?
    public var rtcp: RtcpParameters?

    public init(mid: String? = nil, codecs: [RtpCodecParameters], headerExtensions: [RtpHeaderExtensionParameters]? = nil,
                encodings: [RtpEncodingParameters]? = nil, rtcp: RtcpParameters? = nil) {
        self.mid = mid
        self.codecs = codecs
        self.headerExtensions = headerExtensions
        self.encodings = encodings
        self.rtcp = rtcp
    }
}
