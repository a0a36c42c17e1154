import NIOCore
import STUN
import TestSupport
import Testing

@Suite("STUN message codec (RFC 5389)")
struct STUNMessageTests {
    static let id = STUNTransactionID(bytes: Array(1...12))!
    static let key = Array("a-very-long-ice-password-22".utf8)

    @Test("message type interleaving round-trips for every class and several methods")
    func messageType() {
        #expect(STUNMessageType.bindingRequest.rawValue == 0x0001)
        #expect(STUNMessageType.bindingIndication.rawValue == 0x0011)
        #expect(STUNMessageType.bindingSuccessResponse.rawValue == 0x0101)
        #expect(STUNMessageType.bindingErrorResponse.rawValue == 0x0111)
        for method: UInt16 in [0x001, 0x003, 0x00A, 0xFFF, 0x080] {
            for messageClass: STUNClass in [.request, .indication, .successResponse, .errorResponse] {
                let type = STUNMessageType(method: method, messageClass: messageClass)
                #expect(STUNMessageType(rawValue: type.rawValue) == type)
                #expect(type.rawValue & 0xC000 == 0)
            }
        }
    }

    @Test("success response round-trip: address, integrity, fingerprint")
    func successRoundTrip() throws {
        for address in [TransportAddress(ipv4: 127, 0, 0, 1, port: 5000), TransportAddress(ipv6High: 0x2001_0db8_0000_0000, low: 1, port: 443)] {
            let buffer = STUNMessage.bindingSuccessResponse(transactionID: Self.id, mappedAddress: address, integrityKey: Self.key, software: "msab")
            #expect(buffer.readableBytes % 4 == 0)
            let message = try STUNMessage(datagram: buffer)
            #expect(message.type == .bindingSuccessResponse)
            #expect(message.transactionID == Self.id)
            #expect(message.xorMappedAddress == address)
            #expect(message.software == "msab")
            #expect(message.checkMessageIntegrity(key: Self.key) == .valid)
            #expect(message.checkMessageIntegrity(key: Array("other".utf8)) == .invalid)
            #expect(message.checkFingerprint() == .valid)
        }
    }

    @Test("error responses carry code and reason; integrity only when keyed", arguments: [STUNErrorCode.badRequest, .unauthorized, .roleConflict])
    func errorResponses(_ error: STUNErrorCode) throws {
        let keyed = error == .roleConflict
        let buffer = STUNMessage.bindingErrorResponse(transactionID: Self.id, error: error, integrityKey: keyed ? Self.key : nil)
        let message = try STUNMessage(datagram: buffer)
        #expect(message.type == .bindingErrorResponse)
        #expect(message.errorCode == error)
        #expect(message.checkMessageIntegrity(key: Self.key) == (keyed ? .valid : .absent))
        #expect(message.checkFingerprint() == .valid)
    }

    @Test("ERROR-CODE encoding: class and number (RFC 5389 §15.6)")
    func errorCodeBytes() throws {
        let buffer = STUNMessage.bindingErrorResponse(transactionID: Self.id, error: .roleConflict)
        let message = try STUNMessage(datagram: buffer)
        let value = try #require(message.attribute(.errorCode)?.value)
        #expect(Array(value.readableBytesView.prefix(4)) == [0, 0, 4, 87])
        #expect(value.readableBytes == 4 + "Role Conflict".utf8.count)
    }

    @Test("request attributes: PRIORITY, USE-CANDIDATE, ICE-CONTROLLING, MAPPED-ADDRESS")
    func requestAttributes() throws {
        var builder = STUNMessageBuilder(type: .bindingRequest, transactionID: Self.id)
        builder.addUsername("abcd:efgh")
        builder.addPriority(1_853_824_767)
        builder.addUseCandidate()
        builder.addICEControlling(0x0102_0304_0506_0708)
        builder.addMappedAddress(TransportAddress(ipv4: 10, 0, 0, 1, port: 9))
        builder.addMessageIntegrity(key: Self.key)
        builder.addFingerprint()
        let message = try STUNMessage(datagram: builder.buffer)
        #expect(message.username == "abcd:efgh")
        #expect(message.priority == 1_853_824_767)
        #expect(message.useCandidate)
        #expect(message.iceControlling == 0x0102_0304_0506_0708)
        #expect(message.iceControlled == nil)
        #expect(message.mappedAddress == TransportAddress(ipv4: 10, 0, 0, 1, port: 9))
        #expect(message.checkMessageIntegrity(key: Self.key) == .valid)
    }

    @Test("unknown attributes are kept and skipped with their padding; comprehension-required ones are listed")
    func unknownAttributes() throws {
        var builder = STUNMessageBuilder(type: .bindingRequest, transactionID: Self.id)
        builder.addAttribute(STUNAttributeType(rawValue: 0xC057), value: [0, 1, 0, 0x0A])  // Chrome GOOG-NETWORK-INFO
        builder.addAttribute(STUNAttributeType(rawValue: 0x7777), value: [1, 2, 3])  // odd length → 1 pad byte
        builder.addUsername("x:y")
        let message = try STUNMessage(datagram: builder.buffer)
        #expect(message.attributes.map(\.type.rawValue) == [0xC057, 0x7777, 0x0006])
        #expect(message.attribute(STUNAttributeType(rawValue: 0x7777))?.value.readableBytes == 3)
        #expect(message.username == "x:y")
        #expect(message.unknownComprehensionRequiredAttributes == [STUNAttributeType(rawValue: 0x7777)])
        let response = STUNMessage.bindingErrorResponse(
            transactionID: Self.id,
            error: .unknownAttribute,
            unknownAttributes: [STUNAttributeType(rawValue: 0x7777)]
        )
        #expect(try STUNMessage(datagram: response).attribute(.unknownAttributes)?.value.array == [0x77, 0x77])
    }

    @Test("attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 5389 §15.4)")
    func ignoredAfterIntegrity() throws {
        var builder = STUNMessageBuilder(type: .bindingRequest, transactionID: Self.id)
        builder.addUsername("a:b")
        builder.addMessageIntegrity(key: Self.key)
        builder.addFingerprint()
        // Splice a PRIORITY between MI and FINGERPRINT by hand.
        var bytes = builder.buffer.array
        let fingerprint = Array(bytes.suffix(8))
        bytes.removeLast(8)
        bytes += [0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1] + fingerprint
        bytes[3] += 8
        let message = try STUNMessage(datagram: ByteBuffer(bytes: bytes))
        #expect(message.priority == nil)
        #expect(message.checkMessageIntegrity(key: Self.key) == .valid)
        #expect(message.checkFingerprint() == .invalid)  // its CRC no longer matches the spliced bytes
    }

    @Test("an attribute after FINGERPRINT is an error")
    func afterFingerprint() {
        var builder = STUNMessageBuilder(type: .bindingRequest, transactionID: Self.id)
        builder.addFingerprint()
        var bytes = builder.buffer.array + [0x80, 0x22, 0x00, 0x00]
        bytes[3] += 4
        #expect(throws: STUNError.self) { try STUNMessage(datagram: ByteBuffer(bytes: bytes)) }
    }

    @Test(
        "garbage is rejected with a typed error",
        arguments: [
            ("not STUN: top bits", "c0010000 2112a442 000000000000000000000000", STUNError.ErrorType.notSTUN),
            ("bad cookie", "00010000 2112a443 000000000000000000000000", .notSTUN),
            ("length not multiple of 4", "00010002 2112a442 000000000000000000000000 0000", .invalidLength),
            ("length beyond datagram", "00010008 2112a442 000000000000000000000000", .truncated),
            ("trailing bytes", "00010000 2112a442 000000000000000000000000 00000000", .invalidLength),
            ("attribute overruns", "00010004 2112a442 000000000000000000000000 00060004", .malformedAttribute),
            ("attribute header cut", "00010004 2112a442 000000000000000000000000 0006", .truncated),
            ("MESSAGE-INTEGRITY wrong size", "00010008 2112a442 000000000000000000000000 00080004 00000000", .malformedAttribute),
            ("PRIORITY wrong size", "00010008 2112a442 000000000000000000000000 00240002 00000000", .malformedAttribute),
        ]
    )
    func garbage(_ sample: (String, String, STUNError.ErrorType)) {
        do {
            let message = try STUNMessage(datagram: ByteBuffer(bytes: bytes(sample.1)))
            Issue.record("\(sample.0): parsed \(message)")
        } catch {
            #expect(error.type == sample.2, "\(sample.0): \(error)")
        }
    }

    @Test("every truncation of a valid message is nil or an error, never a trap; readSTUNMessage does not consume on nil")
    func truncations() throws {
        let full = STUNMessage.bindingSuccessResponse(
            transactionID: Self.id,
            mappedAddress: TransportAddress(ipv4: 1, 2, 3, 4, port: 5),
            integrityKey: Self.key
        ).array
        for length in 0..<full.count {
            var buffer = ByteBuffer(bytes: Array(full[0..<length]))
            do {
                let message = try buffer.readSTUNMessage()
                #expect(message == nil, "prefix \(length) parsed")
                #expect(buffer.readerIndex == 0, "prefix \(length) consumed bytes without a message")
            } catch {
                Issue.record("prefix \(length) of a valid message threw \(error): short input must be nil")
            }
            #expect(throws: STUNError.self) { try STUNMessage(datagram: ByteBuffer(bytes: Array(full[0..<length]))) }
        }
        #expect(STUNMessage(bytes: UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
        var two = ByteBuffer(bytes: full + full)
        #expect(try two.readSTUNMessage() != nil)
        #expect(try two.readSTUNMessage() != nil)
        #expect(two.readableBytes == 0)
    }

    @Test("random bytes never trap the parser")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        var parsed = 0
        for _ in 0..<5000 {
            let length = Int.random(in: 0...80, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if length >= 8, Bool.random(using: &generator) {
                // Make half of them look like STUN so the attribute walker gets exercised.
                bytes[0] = 0
                bytes[1] = 1
                bytes[2] = 0
                bytes[3] = UInt8(max(0, (length - 20) & ~3))
                bytes[4...7] = [0x21, 0x12, 0xA4, 0x42]
            }
            if let message = try? STUNMessage(datagram: ByteBuffer(bytes: bytes)) {
                parsed += 1
                _ = (
                    message.username, message.xorMappedAddress, message.errorCode, message.checkFingerprint(), message.checkMessageIntegrity(key: [1])
                )
            }
        }
        #expect(parsed >= 0)
    }

    @Test("looksLikeSTUN checks the cookie")
    func looksLike() {
        let response = STUNMessage.bindingErrorResponse(transactionID: Self.id, error: .badRequest)
        #expect(response.withUnsafeReadableBytes { STUNMessage.looksLikeSTUN($0) })
        #expect(!bytes("00010000 2112a443 000000000000000000000000").withUnsafeBytes { STUNMessage.looksLikeSTUN($0) })
    }

    @Test("CRC-32 check value (\"123456789\" → 0xCBF43926)")
    func crc() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        var incremental = CRC32()
        incremental.update(Array("1234".utf8))
        incremental.update(Array("56789".utf8))
        #expect(incremental.value == 0xCBF4_3926)
    }
}
