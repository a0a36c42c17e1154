public import STUN

extension ICELiteServer {
    /// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4).
    static let iceChars: [Character] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    /// Whether `value` is at least `minimum` ice-chars and at most 256 (RFC 8839 §5.4).
    public static func isValidICEString(_ value: String, minimumLength minimum: Int) -> Bool {
        let count = value.utf8.count
        return count >= minimum && count <= 256
            && value.utf8.allSatisfy { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2F
            }
    }

    /// `length` random ice-chars drawn from `generator` (the caller's source of randomness).
    public static func randomICEString(length: Int, using generator: inout some RandomNumberGenerator) -> String {
        String((0..<length).map { _ in iceChars[Int.random(in: 0..<iceChars.count, using: &generator)] })
    }

    static func validate(usernameFragment: String, password: String) throws(ICELiteError) {
        guard isValidICEString(usernameFragment, minimumLength: 4) else { throw .invalidUsernameFragment(usernameFragment) }
        guard isValidICEString(password, minimumLength: 22) else { throw .invalidPassword(password) }
    }

    /// The local ufrag a Binding request is addressed to: the part of USERNAME before the first
    /// ':' (RFC 8445 §7.2.2 "LFRAG:RFRAG" from the receiver's view). A shared-port server uses it to
    /// find the transport when the source tuple is not known yet (mediasoup `WebRtcServer`).
    public static func localUsernameFragment(in message: STUNMessage) -> Substring? {
        guard let username = message.username, let colon = username.firstIndex(of: ":") else { return nil }
        let local = username[..<colon]
        return local.isEmpty ? nil : local
    }
}
