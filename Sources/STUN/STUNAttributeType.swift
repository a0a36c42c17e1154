/// A STUN attribute type (RFC 5389 §18.2, RFC 8445 §16.1). 0x0000–0x7FFF are
/// comprehension-required, 0x8000–0xFFFF comprehension-optional (RFC 5389 §15).
public struct STUNAttributeType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let mappedAddress = STUNAttributeType(rawValue: 0x0001)
    public static let username = STUNAttributeType(rawValue: 0x0006)
    public static let messageIntegrity = STUNAttributeType(rawValue: 0x0008)
    public static let errorCode = STUNAttributeType(rawValue: 0x0009)
    public static let unknownAttributes = STUNAttributeType(rawValue: 0x000A)
    public static let realm = STUNAttributeType(rawValue: 0x0014)
    public static let nonce = STUNAttributeType(rawValue: 0x0015)
    public static let xorMappedAddress = STUNAttributeType(rawValue: 0x0020)
    /// RFC 8445 §16.1.
    public static let priority = STUNAttributeType(rawValue: 0x0024)
    /// RFC 8445 §16.1.
    public static let useCandidate = STUNAttributeType(rawValue: 0x0025)
    public static let software = STUNAttributeType(rawValue: 0x8022)
    public static let alternateServer = STUNAttributeType(rawValue: 0x8023)
    public static let fingerprint = STUNAttributeType(rawValue: 0x8028)
    /// RFC 8445 §16.1.
    public static let iceControlled = STUNAttributeType(rawValue: 0x8029)
    /// RFC 8445 §16.1.
    public static let iceControlling = STUNAttributeType(rawValue: 0x802A)

    /// Whether an agent that does not know this attribute must reject the message (RFC 5389 §15).
    public var isComprehensionRequired: Bool { rawValue < 0x8000 }

    /// Whether this module decodes the attribute.
    public var isKnown: Bool {
        switch self {
        case .mappedAddress, .username, .messageIntegrity, .errorCode, .unknownAttributes, .realm, .nonce, .xorMappedAddress,
            .priority, .useCandidate, .software, .alternateServer, .fingerprint, .iceControlled, .iceControlling:
            true
        default:
            false
        }
    }

    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// ERROR-CODE values (RFC 5389 §15.6, RFC 8445 §7.3.1.1).
public struct STUNErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// 300–699.
    public var code: Int
    public var reason: String

    public init(code: Int, reason: String) {
        precondition((300...699).contains(code), "STUN error code \(code) outside 300–699")
        self.code = code
        self.reason = reason
    }

    public static let badRequest = STUNErrorCode(code: 400, reason: "Bad Request")
    public static let unauthorized = STUNErrorCode(code: 401, reason: "Unauthorized")
    public static let unknownAttribute = STUNErrorCode(code: 420, reason: "Unknown Attribute")
    public static let roleConflict = STUNErrorCode(code: 487, reason: "Role Conflict")
    public static let serverError = STUNErrorCode(code: 500, reason: "Server Error")

    public var description: String { "\(code) \(reason)" }
}
