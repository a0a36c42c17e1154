import COpenSSL
import CPrefetch
public import NIOCore

// SRTP/SRTCP (RFC 3711) and their AES-GCM form (RFC 7714), written here on AES-NI (CSRTPCrypto; OpenSSL's
// AES-GCM and AES-CTR on CPUs without it) and OpenSSL's HMAC-SHA1 because Debian's libsrtp2 is built on NSS, whose per-call context set-up
// made every protect cost 4 µs at 100 sessions and 25 µs at 1,000 (each call searches the NSS
// softoken's objects): far over the SFU's budget. The tests pin this code to the RFC 3711 and
// RFC 7714 vectors and compare it packet for packet with libsrtp.
//
//     SRTP packet (RFC 3711 §3.1)                 SRTCP packet (§3.4; RFC 7714 §9: tag before E‖index)
//     +----------------------------------+        +------------------------------------+
//     | V=2|P|X| CC |M| PT |  seq        |        | V=2|P| RC | PT=SR/RR | length      |
//     | timestamp                        |        | SSRC of sender                     |
//     | SSRC                             |        +------------------------------------+ <-+
//     | CSRC list, header extension      |        | encrypted portion (rest of the     |   |
//     +----------------------------------+ <-+    | compound packet)                   |   |
//     | payload (encrypted)              |   |    +------------------------------------+ <-+
//     +----------------------------------+ <-+    |E| SRTCP index (31 bits)            |
//     | authentication tag               |        | authentication tag                 |
//     +----------------------------------+        +------------------------------------+

/// One direction of an SRTP/SRTCP crypto context, like mediasoup's `SrtpSession`: an outbound
/// session protects, an inbound session unprotects.
///
/// Created from the profile and the master key‖salt that DTLS-SRTP exported (RFC 5764 §4.2).
/// Any SSRC may use the session (libsrtp's `ssrc_any_*`): per-SSRC state (rollover counter,
/// replay window, SRTCP index) appears with the first authenticated packet of that SSRC.
///
/// All operations work IN PLACE and allocate nothing per call once an SSRC is known:
/// - protect appends the tag (SRTCP: E‖index and the tag); the buffer must have
///   ``SRTPProfile/rtpOverhead`` / ``SRTPProfile/rtcpOverhead`` bytes of spare capacity;
/// - unprotect verifies, decrypts and shortens the packet. A packet that fails any check leaves
///   the session as it was.
///
/// Not thread-safe and not `Sendable`: confine a session to one event loop, as the SFU does.
public final class SRTPSession {
    /// Which way packets flow through this session.
    public enum Direction: Sendable, Hashable {
        /// Packets we send: `protectRTP` / `protectRTCP`.
        case outbound
        /// Packets we receive: `unprotectRTP` / `unprotectRTCP`.
        case inbound
    }

    // MARK: - Stored properties

    /// The negotiated protection profile.
    public let profile: SRTPProfile
    /// The direction this session was created for.
    public let direction: Direction
    private let replayWindowSize: Int
    private let allowRepeatTransmit: Bool
    private let rtpCipher: SRTPCipher
    private let rtcpCipher: SRTPCipher
    private var rtpStreams: [UInt32: SRTPStream] = [:]
    private var rtcpStreams: [UInt32: SRTPStream] = [:]
    /// The stream of the SSRC protected last (outbound RTP).
    private var lastSentStream: (ssrc: UInt32, stream: SRTPStream)?
    /// Four bytes of scratch: the ROC authenticated after an AES-CM packet, the SRTCP trailer.
    private let word: UnsafeMutablePointer<UInt8>

    /// SSRCs one session tracks at most (a peer has a handful; this bounds a misbehaving one).
    public static let maximumStreams = 1_024

    // MARK: - Init

    /// Creates a session.
    /// - Parameters:
    ///   - profile: the DTLS-SRTP protection profile.
    ///   - keyAndSalt: master key followed by master salt, ``SRTPProfile/keyAndSaltLength`` bytes.
    ///   - direction: outbound (protect) or inbound (unprotect).
    ///   - replayWindowSize: RFC 3711 §3.3.2 replay window in packets (64…32768); 1024 tolerates
    ///     the reordering seen on real paths, as mediasoup uses.
    ///   - allowRepeatTransmit: let an outbound session protect the same sequence number twice,
    ///     which NACK-driven retransmissions of an identical packet need (libsrtp `allow_repeat_tx`).
    ///   - aesNI: do the AES with the CPU's AES-NI when it has it (CSRTPCrypto, a third of OpenSSL's
    ///     cost per packet); false keeps to OpenSSL (the tests compare the two).
    public init(
        profile: SRTPProfile,
        keyAndSalt: [UInt8],
        direction: Direction,
        replayWindowSize: Int = 1024,
        allowRepeatTransmit: Bool = true,
        aesNI: Bool = true
    ) throws(SRTPError) {
        guard keyAndSalt.count == profile.keyAndSaltLength, (64...0x8000).contains(replayWindowSize) else {
            throw SRTPError(type: .badParam)
        }
        let masterKey = Array(keyAndSalt[0..<profile.keyLength])
        let masterSalt = Array(keyAndSalt[profile.keyLength...])
        rtpCipher = try SRTPCipher(
            profile: profile, masterKey: masterKey, masterSalt: masterSalt, rtcp: false, decrypting: direction == .inbound, aesNI: aesNI)
        rtcpCipher = try SRTPCipher(
            profile: profile, masterKey: masterKey, masterSalt: masterSalt, rtcp: true, decrypting: direction == .inbound, aesNI: aesNI)
        self.profile = profile
        self.direction = direction
        self.replayWindowSize = replayWindowSize
        self.allowRepeatTransmit = allowRepeatTransmit
        word = .allocate(capacity: 4)
        word.initialize(repeating: 0, count: 4)
    }

    deinit {
        word.deallocate()
    }

    // MARK: - ByteBuffer API

    /// Encrypts and authenticates the RTP packet held in `packet`'s readable bytes, in place.
    ///
    /// Grows the readable region by ``SRTPProfile/rtpOverhead`` bytes. Reserve that much
    /// writable capacity beforehand to keep the call allocation-free; otherwise the buffer
    /// grows (one allocation) first.
    public func protectRTP(_ packet: inout ByteBuffer) throws(SRTPError) {
        try self.run(on: &packet, overhead: self.profile.rtpOverhead) { (bytes, length) throws(SRTPError) in
            try self.protectRTP(bytes, length: length)
        }
    }

    /// Verifies and decrypts the SRTP packet held in `packet`'s readable bytes, in place;
    /// on success the readable region shrinks to the plain RTP packet.
    public func unprotectRTP(_ packet: inout ByteBuffer) throws(SRTPError) {
        try self.run(on: &packet, overhead: 0) { (bytes, length) throws(SRTPError) in
            try self.unprotectRTP(bytes, length: length)
        }
    }

    /// Encrypts and authenticates the (compound) RTCP packet in `packet`'s readable bytes, in place.
    /// Grows the readable region by ``SRTPProfile/rtcpOverhead`` bytes.
    public func protectRTCP(_ packet: inout ByteBuffer) throws(SRTPError) {
        try self.run(on: &packet, overhead: self.profile.rtcpOverhead) { (bytes, length) throws(SRTPError) in
            try self.protectRTCP(bytes, length: length)
        }
    }

    /// Verifies and decrypts the SRTCP packet in `packet`'s readable bytes, in place.
    public func unprotectRTCP(_ packet: inout ByteBuffer) throws(SRTPError) {
        try self.run(on: &packet, overhead: 0) { (bytes, length) throws(SRTPError) in
            try self.unprotectRTCP(bytes, length: length)
        }
    }

    /// Asks for the state the next ``protectRTP(_:length:)`` touches (this session, its last
    /// stream, its RTP cipher): the SFU's fan-out calls it a few consumers ahead.
    @inline(__always)
    public func prefetchForProtect() {
        msab_prefetch_lines(Unmanaged.passUnretained(self).toOpaque(), 2)
        if let last = lastSentStream { msab_prefetch_lines(Unmanaged.passUnretained(last.stream).toOpaque(), 1) }
        rtpCipher.prefetch()
    }

    /// The same as ``prefetchForProtect()`` split in the two steps a pipelined fan-out wants, so
    /// that no step waits for memory: `session` itself was asked for a step earlier; step 1 reads
    /// it and asks for its last stream and its cipher object; step 2 (a consumer later) reads the
    /// cipher object and asks for its key schedule. Raw pointers, no retain: a retain writes the
    /// object's refcount, which stalls on the very line being prefetched.
    @inline(__always)
    public static func prefetchForProtect(step: Int, _ session: Unmanaged<SRTPSession>) {
        session._withUnsafeGuaranteedRef { session in
            if step == 1 {
                if let last = session.lastSentStream { msab_prefetch_lines(Unmanaged.passUnretained(last.stream).toOpaque(), 1) }
                msab_prefetch_lines(Unmanaged.passUnretained(session.rtpCipher).toOpaque(), 1)
            } else {
                session.rtpCipher.prefetch()
            }
        }
    }

    // MARK: - Raw buffer API

    /// Protects the RTP packet in the first `length` bytes of `buffer` in place.
    /// - Returns: the new packet length (`length + profile.rtpOverhead`).
    /// - Throws: `.bufferTooSmall` if `buffer.count < length + rtpOverhead`, `.malformed` if the
    ///   header does not fit `length`, `.replayFail` for an index already protected (unless
    ///   `allowRepeatTransmit`) or older than the window.
    public func protectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        precondition(self.direction == .outbound, "protectRTP on an inbound SRTPSession")
        guard length >= 12, let base = buffer.baseAddress else { throw SRTPError(type: .malformed) }
        guard buffer.count >= length + self.profile.rtpOverhead else { throw SRTPError(type: .bufferTooSmall) }
        let p = base.assumingMemoryBound(to: UInt8.self)
        guard let headerLength = Self.rtpHeaderLength(p, length) else { throw SRTPError(type: .malformed) }
        let ssrc = Self.read32(p + 8)
        let stream: SRTPStream
        if let last = lastSentStream, last.ssrc == ssrc {
            stream = last.stream  // a consumer's transport sends one SSRC: skip the table
        } else {
            stream = try self.stream(ssrc, in: &rtpStreams)
            lastSentStream = (ssrc, stream)
        }
        let index = stream.estimateIndex(Self.read16(p + 2))
        // Retransmissions may repeat an index, so an outbound session that allows them only
        // needs the highest index (for the ROC), not the window (libsrtp `allow_repeat_tx`).
        if !allowRepeatTransmit, stream.window.check(index) != .fresh { throw SRTPError(type: .replayFail) }
        let payloadLength = length - headerLength
        let newLength: Int
        if rtpCipher.isGCM {
            try rtpCipher.seal(
                ssrc: ssrc, index: index, aad: p, headerLength, aad2: nil, 0, p + headerLength, payloadLength, tag: p + length)
            newLength = length + 16
        } else {
            try rtpCipher.counterMode(ssrc: ssrc, index: index, p + headerLength, payloadLength)
            Self.write32(UInt32(truncatingIfNeeded: index >> 16), to: word)
            try rtpCipher.authenticate(p, length, word, 4)
            (p + length).update(from: rtpCipher.digest, count: profile.rtpAuthTagLength)
            newLength = length + profile.rtpAuthTagLength
        }
        if allowRepeatTransmit { stream.window.advance(to: index) } else { stream.window.commit(index) }
        return newLength
    }

    /// Unprotects the SRTP packet in the first `length` bytes of `buffer` in place.
    /// - Returns: the plain RTP packet's length.
    public func unprotectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        precondition(self.direction == .inbound, "unprotectRTP on an outbound SRTPSession")
        let tagLength = profile.rtpAuthTagLength
        guard length >= 12 + tagLength, length <= buffer.count, let base = buffer.baseAddress else {
            throw SRTPError(type: .malformed)
        }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let authenticated = length - tagLength
        guard let headerLength = Self.rtpHeaderLength(p, authenticated) else { throw SRTPError(type: .malformed) }
        let ssrc = Self.read32(p + 8)
        let known = rtpStreams[ssrc]
        let index = SRTPStream.estimateIndex(Self.read16(p + 2), highest: known?.window.highest ?? 0)
        if let known, known.window.check(index) != .fresh { throw SRTPError(type: .replayFail) }
        let payloadLength = authenticated - headerLength
        if rtpCipher.isGCM {
            guard
                rtpCipher.open(
                    ssrc: ssrc, index: index, aad: p, headerLength, aad2: nil, 0, p + headerLength, payloadLength, tag: p + authenticated)
            else { throw SRTPError(type: .authFail) }
        } else {
            Self.write32(UInt32(truncatingIfNeeded: index >> 16), to: word)
            try rtpCipher.authenticate(p, authenticated, word, 4)
            guard CRYPTO_memcmp(rtpCipher.digest, p + authenticated, tagLength) == 0 else { throw SRTPError(type: .authFail) }
            try rtpCipher.counterMode(ssrc: ssrc, index: index, p + headerLength, payloadLength)
        }
        if let known {
            known.window.commit(index)
        } else {
            try self.stream(ssrc, in: &rtpStreams).window.commit(index)
        }
        return authenticated
    }

    /// Protects the RTCP packet in the first `length` bytes of `buffer` in place.
    /// - Returns: the new length (`length + profile.rtcpOverhead`).
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        precondition(self.direction == .outbound, "protectRTCP on an inbound SRTPSession")
        guard length >= 8, let base = buffer.baseAddress else { throw SRTPError(type: .malformed) }
        guard buffer.count >= length + self.profile.rtcpOverhead else { throw SRTPError(type: .bufferTooSmall) }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let ssrc = Self.read32(p + 4)
        let stream = try self.stream(ssrc, in: &rtcpStreams)
        guard stream.sentRTCPIndex < 0x7FFF_FFFF else { throw SRTPError(type: .keyExpired) }
        stream.sentRTCPIndex += 1
        let index = stream.sentRTCPIndex
        Self.write32(0x8000_0000 | index, to: word)
        if rtcpCipher.isGCM {
            try rtcpCipher.seal(ssrc: ssrc, index: UInt64(index), aad: p, 8, aad2: word, 4, p + 8, length - 8, tag: p + length)
            (p + length + 16).update(from: word, count: 4)
            return length + 20
        }
        try rtcpCipher.counterMode(ssrc: ssrc, index: UInt64(index), p + 8, length - 8)
        (p + length).update(from: word, count: 4)
        try rtcpCipher.authenticate(p, length + 4, nil, 0)
        (p + length + 4).update(from: rtcpCipher.digest, count: profile.rtcpAuthTagLength)
        return length + 4 + profile.rtcpAuthTagLength
    }

    /// Unprotects the SRTCP packet in the first `length` bytes of `buffer` in place.
    /// - Returns: the plain RTCP packet's length.
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        precondition(self.direction == .inbound, "unprotectRTCP on an outbound SRTPSession")
        let tagLength = profile.rtcpAuthTagLength
        guard length >= 8 + 4 + tagLength, length <= buffer.count, let base = buffer.baseAddress else {
            throw SRTPError(type: .malformed)
        }
        let p = base.assumingMemoryBound(to: UInt8.self)
        // AES-GCM: … ‖ tag ‖ E‖index (RFC 7714 §9); AES-CM: … ‖ E‖index ‖ tag (RFC 3711 §3.4).
        let trailerOffset = rtcpCipher.isGCM ? length - 4 : length - tagLength - 4
        let end = rtcpCipher.isGCM ? length - 4 - tagLength : trailerOffset
        let trailer = Self.read32(p + trailerOffset)
        let encrypted = trailer & 0x8000_0000 != 0
        let index = UInt64(trailer & 0x7FFF_FFFF)
        let ssrc = Self.read32(p + 4)
        let known = rtcpStreams[ssrc]
        if let known, known.window.check(index) != .fresh { throw SRTPError(type: .replayFail) }
        if rtcpCipher.isGCM {
            // Unencrypted SRTCP (E = 0) authenticates the whole packet as AAD (RFC 7714 §9.3).
            let aadLength = encrypted ? 8 : end
            guard
                rtcpCipher.open(
                    ssrc: ssrc, index: index, aad: p, aadLength, aad2: p + trailerOffset, 4, p + aadLength, end - aadLength,
                    tag: p + end)
            else { throw SRTPError(type: .authFail) }
        } else {
            try rtcpCipher.authenticate(p, length - tagLength, nil, 0)
            guard CRYPTO_memcmp(rtcpCipher.digest, p + length - tagLength, tagLength) == 0 else {
                throw SRTPError(type: .authFail)
            }
            if encrypted { try rtcpCipher.counterMode(ssrc: ssrc, index: index, p + 8, end - 8) }
        }
        if let known {
            known.window.commit(index)
        } else {
            try self.stream(ssrc, in: &rtcpStreams).window.commit(index)
        }
        return end
    }

    // MARK: - Private

    /// The stream of `ssrc`, created on first use (bounded by ``maximumStreams``).
    private func stream(_ ssrc: UInt32, in streams: inout [UInt32: SRTPStream]) throws(SRTPError) -> SRTPStream {
        if let stream = streams[ssrc] { return stream }
        guard streams.count < Self.maximumStreams else { throw SRTPError(type: .keyExpired) }
        let stream = SRTPStream(windowSize: replayWindowSize)
        streams[ssrc] = stream
        return stream
    }

    /// The length of the RTP header (fixed part, CSRCs, extension) if it fits in `length` bytes.
    @inline(__always)
    static func rtpHeaderLength(_ p: UnsafeMutablePointer<UInt8>, _ length: Int) -> Int? {
        guard length >= 12, p[0] >> 6 == 2 else { return nil }
        var headerLength = 12 + 4 * Int(p[0] & 0x0F)
        if p[0] & 0x10 != 0 {
            guard headerLength + 4 <= length else { return nil }
            headerLength += 4 + 4 * (Int(p[headerLength + 2]) << 8 | Int(p[headerLength + 3]))
        }
        return headerLength <= length ? headerLength : nil
    }

    @inline(__always)
    static func read16(_ p: UnsafeMutablePointer<UInt8>) -> UInt16 { UInt16(p[0]) << 8 | UInt16(p[1]) }

    @inline(__always)
    static func read32(_ p: UnsafeMutablePointer<UInt8>) -> UInt32 {
        UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
    }

    @inline(__always)
    static func write32(_ value: UInt32, to p: UnsafeMutablePointer<UInt8>) {
        p[0] = UInt8(truncatingIfNeeded: value >> 24)
        p[1] = UInt8(truncatingIfNeeded: value >> 16)
        p[2] = UInt8(truncatingIfNeeded: value >> 8)
        p[3] = UInt8(truncatingIfNeeded: value)
    }

    /// Runs `body` on the readable bytes of `packet`, with `overhead` bytes of room after them,
    /// then moves the writer index to the new end.
    private func run(
        on packet: inout ByteBuffer,
        overhead: Int,
        _ body: (UnsafeMutableRawBufferPointer, Int) throws(SRTPError) -> Int
    ) throws(SRTPError) {
        if packet.writableBytes < overhead {
            packet.reserveCapacity(minimumWritableBytes: overhead)
        }
        let start = packet.readerIndex
        let length = packet.readableBytes
        // `withVeryUnsafeMutableBytes` spans the whole (uniquely owned) storage of this slice;
        // the packet starts at the reader index.
        let newLength = try packet.withVeryUnsafeMutableBytes { (storage) throws(SRTPError) -> Int in
            let window = UnsafeMutableRawBufferPointer(rebasing: storage[start..<(start + length + overhead)])
            return try body(window, length)
        }
        packet.moveWriterIndex(to: start + newLength)
    }
}
