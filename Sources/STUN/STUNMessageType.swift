/// The STUN message class (RFC 5389 §6).
public enum STUNClass: UInt8, Sendable, Hashable {
    case request = 0b00
    case indication = 0b01
    case successResponse = 0b10
    case errorResponse = 0b11
}

/// The 14-bit message type: a method and a class interleaved (RFC 5389 §6):
/// ```
///  0                 1
///  2  3  4 5 6 7 8 9 0 1 2 3 4 5
/// +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
/// |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
/// |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
/// +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct STUNMessageType: Sendable, Hashable, CustomStringConvertible {
    /// The 12-bit method (0x001 = Binding).
    public var method: UInt16
    public var messageClass: STUNClass

    /// Binding (RFC 5389 §18.1), the only method ICE uses.
    public static let bindingMethod: UInt16 = 0x001

    public init(method: UInt16, messageClass: STUNClass) {
        precondition(method < 0x1000, "STUN method \(method) does not fit in 12 bits")
        self.method = method
        self.messageClass = messageClass
    }

    /// Decodes the 16-bit type field (the top two bits must already be known to be 0).
    public init(rawValue: UInt16) {
        let c0 = (rawValue >> 4) & 0x1
        let c1 = (rawValue >> 8) & 0x1
        switch c1 << 1 | c0 {
        case 0b00: self.messageClass = .request
        case 0b01: self.messageClass = .indication
        case 0b10: self.messageClass = .successResponse
        default: self.messageClass = .errorResponse
        }
        self.method = (rawValue & 0x000F) | ((rawValue & 0x00E0) >> 1) | ((rawValue & 0x3E00) >> 2)
    }

    /// The 16-bit type field.
    public var rawValue: UInt16 {
        let c = UInt16(messageClass.rawValue)
        return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | ((c & 0x1) << 4) | ((c & 0x2) << 7)
    }

    public static let bindingRequest = STUNMessageType(method: bindingMethod, messageClass: .request)
    public static let bindingIndication = STUNMessageType(method: bindingMethod, messageClass: .indication)
    public static let bindingSuccessResponse = STUNMessageType(method: bindingMethod, messageClass: .successResponse)
    public static let bindingErrorResponse = STUNMessageType(method: bindingMethod, messageClass: .errorResponse)

    public var description: String {
        let method = self.method == Self.bindingMethod ? "Binding" : "method 0x\(String(self.method, radix: 16))"
        return "\(method) \(messageClass)"
    }
}

/// The 96-bit transaction id (RFC 5389 §6), stored inline so it hashes and compares fast.
public struct STUNTransactionID: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline var high: UInt32
    @usableFromInline var low: UInt64

    /// From exactly 12 bytes; nil otherwise.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 12 else { return nil }
        var high: UInt32 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 4 { high = high << 8 | UInt32(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.high = high
        self.low = low
    }

    /// A random id from the caller's generator (RFC 5389 §6: "uniformly and randomly chosen").
    public init(using generator: inout some RandomNumberGenerator) {
        self.high = generator.next()
        self.low = generator.next()
    }

    /// The 12 bytes in wire order.
    public var bytes: [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: high >> (24 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
