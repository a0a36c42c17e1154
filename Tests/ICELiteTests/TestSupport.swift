import ICELite
import NIOCore
import STUN

/// Fake monotonic time: seconds since an arbitrary origin.
func at(_ seconds: Double) -> NIODeadline {
    .uptimeNanoseconds(1_000_000_000_000 + UInt64(seconds * 1_000_000_000))
}

/// Builds a Binding request the way ICE agents do; every piece can be left out or spoiled.
struct RequestSpec {
    var username: String? = "msabUfrag1234567:peer"
    var password: String? = "Rq7x2bKp9LmN4vS8tW1yZ3aC"
    var priority: UInt32? = 1_853_824_767
    var controlling: UInt64? = 0x1122_3344_5566_7788
    var controlled: UInt64? = nil
    var useCandidate = false
    var fingerprint = true
    var type: STUNMessageType = .bindingRequest
    var extra: [(STUNAttributeType, [UInt8])] = []
    var transactionID = STUNTransactionID(bytes: Array(40...51))!

    func build() -> ByteBuffer {
        var builder = STUNMessageBuilder(type: type, transactionID: transactionID)
        if let username { builder.addUsername(username) }
        for (type, value) in extra { builder.addAttribute(type, value: value) }
        if let controlling { builder.addICEControlling(controlling) }
        if let controlled { builder.addICEControlled(controlled) }
        if useCandidate { builder.addUseCandidate() }
        if let priority { builder.addPriority(priority) }
        if let password { builder.addMessageIntegrity(key: Array(password.utf8)) }
        if fingerprint { builder.addFingerprint() }
        return builder.buffer
    }
}

extension ICELiteServer.ReceivedBindingAction {
    /// The datagram to send, if any.
    var response: ByteBuffer? {
        switch self {
        case .respond(let buffer, _), .respondAndSelect(let buffer, _, _), .reject(let buffer, _, _): buffer
        case .drop: nil
        }
    }

    var dropReason: ICEDropReason? {
        switch self {
        case .reject(_, _, let reason), .drop(let reason): reason
        default: nil
        }
    }

    var isDrop: Bool {
        if case .drop = self { return true }
        return false
    }
}
