import NIOCore
import STUN
import TestSupport
import Testing

/// RFC 5769 "Test Vectors for Session Traversal Utilities for NAT (STUN)", byte for byte.
@Suite("RFC 5769 STUN test vectors")
struct RFC5769Tests {
    /// §2 "The password … is VOkJxbRl1RmTxUk/WvJxBt" (short-term, vectors 2.1–2.3).
    static let password = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)

    /// §2.1 Sample Request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT).
    static let request = bytes(
        """
        00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
        00 24 00 04 6e 00 01 ff
        80 29 00 08 93 2f f9 b1 51 26 3b 36
        00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
        00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
        80 28 00 04 e5 7a 3b cf
        """
    )

    /// §2.2 Sample IPv4 Response.
    static let ipv4Response = bytes(
        """
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 08 00 01 a1 47 e1 12 a6 43
        00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
        80 28 00 04 c0 7d 4c 96
        """
    )

    /// §2.3 Sample IPv6 Response.
    static let ipv6Response = bytes(
        """
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
        80 28 00 04 c8 fb 0b 4c
        """
    )

    /// §2.4 Sample Request with Long-Term Authentication (USERNAME, NONCE, REALM, MESSAGE-INTEGRITY).
    static let longTermRequest = bytes(
        """
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
        00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
        00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66
        """
    )

    static let transactionID = STUNTransactionID(bytes: bytes("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"))!

    @Test("2.1 sample request: attributes, integrity, fingerprint")
    func sampleRequest() throws {
        let message = try STUNMessage(datagram: ByteBuffer(bytes: Self.request))
        #expect(message.type == .bindingRequest)
        #expect(message.transactionID == Self.transactionID)
        #expect(message.software == "STUN test client")
        #expect(message.priority == 0x6e00_01ff)
        #expect(message.iceControlled == 0x932f_f9b1_5126_3b36)
        #expect(message.iceControlling == nil)
        #expect(message.username == "evtj:h6vY")
        #expect(message.attributes.map(\.type) == [.software, .priority, .iceControlled, .username, .messageIntegrity, .fingerprint])
        #expect(message.checkFingerprint() == .valid)
        #expect(message.checkMessageIntegrity(key: Self.password) == .valid)
        #expect(message.checkMessageIntegrity(key: Array("VOkJxbRl1RmTxUk/WvJxBT".utf8)) == .invalid)
        #expect(message.unknownComprehensionRequiredAttributes.isEmpty)
    }

    @Test("2.2 sample IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853")
    func sampleIPv4Response() throws {
        let message = try STUNMessage(datagram: ByteBuffer(bytes: Self.ipv4Response))
        #expect(message.type == .bindingSuccessResponse)
        #expect(message.software == "test vector")
        #expect(message.xorMappedAddress == TransportAddress(ipv4: 192, 0, 2, 1, port: 32853))
        #expect(message.checkFingerprint() == .valid)
        #expect(message.checkMessageIntegrity(key: Self.password) == .valid)
    }

    @Test("2.3 sample IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853")
    func sampleIPv6Response() throws {
        let message = try STUNMessage(datagram: ByteBuffer(bytes: Self.ipv6Response))
        let address = try #require(message.xorMappedAddress)
        #expect(address.description == "[2001:db8:1234:5678:11:2233:4455:6677]:32853")
        #expect(address.addressBytes == bytes("20 01 0d b8 12 34 56 78 00 11 22 33 44 55 66 77"))
        #expect(message.checkFingerprint() == .valid)
        #expect(message.checkMessageIntegrity(key: Self.password) == .valid)
    }

    @Test("2.4 long-term credentials: USERNAME, NONCE, REALM and MD5-keyed integrity")
    func longTermCredentials() throws {
        let message = try STUNMessage(datagram: ByteBuffer(bytes: Self.longTermRequest))
        #expect(message.username == "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}")
        #expect(message.nonce == "f//499k954d6OL34oL9FSTvy64sA")
        #expect(message.realm == "example.org")
        #expect(message.checkFingerprint() == .absent)
        // RFC 5769 §2.4: the password "The<U+00AD>M<U+00AA>tr<U+2168>x" is "TheMatrIX" after SASLprep.
        let key = STUNMessage.longTermKey(username: "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}", realm: "example.org", password: "TheMatrIX")
        #expect(message.checkMessageIntegrity(key: key) == .valid)
        #expect(message.checkMessageIntegrity(key: Array("TheMatrIX".utf8)) == .invalid)
    }

    @Test("our builder reproduces 2.1, 2.2 and 2.3 byte for byte (integrity and fingerprint included)")
    func builderMatchesVectors() {
        var request = STUNMessageBuilder(type: .bindingRequest, transactionID: Self.transactionID)
        request.addSoftware("STUN test client")
        request.addPriority(0x6e00_01ff)
        request.addICEControlled(0x932f_f9b1_5126_3b36)
        request.addAttribute(.username, value: Array("evtj:h6vY".utf8), padding: 0x20)
        request.addMessageIntegrity(key: Self.password)
        request.addFingerprint()
        #expect(request.buffer.array == Self.request)

        for (vector, address) in [
            (Self.ipv4Response, TransportAddress(ipv4: 192, 0, 2, 1, port: 32853)),
            (Self.ipv6Response, TransportAddress(addressBytes: bytes("20010db8123456780011223344556677"), port: 32853)!),
        ] {
            var response = STUNMessageBuilder(type: .bindingSuccessResponse, transactionID: Self.transactionID)
            response.addAttribute(.software, value: Array("test vector".utf8), padding: 0x20)
            response.addXORMappedAddress(address)
            response.addMessageIntegrity(key: Self.password)
            response.addFingerprint()
            #expect(response.buffer.array == vector, "\(address)")
        }
    }
}
