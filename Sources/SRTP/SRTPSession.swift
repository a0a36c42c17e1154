import CSRTP
public import NIOCore

/// One direction of an SRTP/SRTCP crypto context (libsrtp `srtp_t`), like mediasoup's
/// `SrtpSession`: an outbound session protects, an inbound session unprotects.
///
/// Created from the profile and the master key‖salt that DTLS-SRTP exported (RFC 5764 §4.2).
/// The session uses a wildcard SSRC (`ssrc_any_outbound` / `ssrc_any_inbound`), so libsrtp
/// creates per-SSRC stream state (rollover counter, replay window) on first use.
///
/// All operations work IN PLACE and allocate nothing per call:
/// - protect appends the tag (SRTCP: E‖index + tag); the buffer must have
///   ``SRTPProfile/rtpOverhead`` / ``SRTPProfile/rtcpOverhead`` bytes of spare capacity;
/// - unprotect verifies, decrypts and shortens the packet.
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
    private let context: OpaquePointer

    // MARK: - Init

    /// Creates a session.
    /// - Parameters:
    ///   - profile: the DTLS-SRTP protection profile.
    ///   - keyAndSalt: master key followed by master salt, ``SRTPProfile/keyAndSaltLength`` bytes.
    ///   - direction: outbound (protect) or inbound (unprotect).
    ///   - replayWindowSize: RFC 3711 §3.3.2 replay window in packets (libsrtp allows 64…32768);
    ///     1024 tolerates the reordering seen on real paths, as mediasoup uses.
    ///   - allowRepeatTransmit: let an outbound session protect the same sequence number twice,
    ///     which NACK-driven retransmissions of an identical packet need (libsrtp `allow_repeat_tx`).
    public init(
        profile: SRTPProfile,
        keyAndSalt: [UInt8],
        direction: Direction,
        replayWindowSize: Int = 1024,
        allowRepeatTransmit: Bool = true
    ) throws(SRTPError) {
        try LibSRTP.ensureInitialized()
        guard keyAndSalt.count == profile.keyAndSaltLength, (64...0x8000).contains(replayWindowSize) else {
            throw SRTPError.local(.badParam)
        }

        var policy = srtp_policy_t()  // zero-initialised, as libsrtp expects
        let cProfile = srtp_profile_t(rawValue: UInt32(profile.rawValue))
        var status = srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, cProfile)
        guard status == srtp_err_status_ok else { throw SRTPError.libsrtp(Int32(bitPattern: status.rawValue)) }
        status = srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, cProfile)
        guard status == srtp_err_status_ok else { throw SRTPError.libsrtp(Int32(bitPattern: status.rawValue)) }
        policy.ssrc.type = direction == .outbound ? ssrc_any_outbound : ssrc_any_inbound
        policy.ssrc.value = 0
        policy.window_size = UInt(replayWindowSize)
        policy.allow_repeat_tx = allowRepeatTransmit ? 1 : 0
        policy.next = nil

        // srtp_create copies the key into its own state, so the pointer only has to live
        // for the call.
        var key = keyAndSalt
        var session: srtp_t? = nil
        status = key.withUnsafeMutableBufferPointer { keyBytes in
            policy.key = keyBytes.baseAddress
            return srtp_create(&session, &policy)
        }
        guard status == srtp_err_status_ok, let session else {
            throw SRTPError.libsrtp(Int32(bitPattern: status.rawValue))
        }
        self.profile = profile
        self.direction = direction
        self.context = session
    }

    deinit {
        srtp_dealloc(self.context)
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

    // MARK: - Raw buffer API

    /// Protects the RTP packet in the first `length` bytes of `buffer` in place.
    /// - Returns: the new packet length (`length + profile.rtpOverhead`).
    /// - Throws: `.bufferTooSmall` if `buffer.count < length + rtpOverhead`, `.malformed` if
    ///   `length` is shorter than an RTP header, or libsrtp's verdict.
    public func protectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        precondition(self.direction == .outbound, "protectRTP on an inbound SRTPSession")
        guard length >= 12 else { throw SRTPError.local(.malformed) }
        guard buffer.count >= length + self.profile.rtpOverhead else { throw SRTPError.local(.bufferTooSmall) }
        return try self.call(buffer, length: length) { srtp_protect($0, $1, $2) }
    }

    /// Unprotects the SRTP packet in the first `length` bytes of `buffer` in place.
    /// - Returns: the plain RTP packet's length.
    public func unprotectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        precondition(self.direction == .inbound, "unprotectRTP on an outbound SRTPSession")
        guard length >= 12 + self.profile.rtpAuthTagLength, length <= buffer.count else {
            throw SRTPError.local(.malformed)
        }
        return try self.call(buffer, length: length) { srtp_unprotect($0, $1, $2) }
    }

    /// Protects the RTCP packet in the first `length` bytes of `buffer` in place.
    /// - Returns: the new length (`length + profile.rtcpOverhead`).
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        precondition(self.direction == .outbound, "protectRTCP on an inbound SRTPSession")
        guard length >= 8 else { throw SRTPError.local(.malformed) }
        guard buffer.count >= length + self.profile.rtcpOverhead else { throw SRTPError.local(.bufferTooSmall) }
        return try self.call(buffer, length: length) { srtp_protect_rtcp($0, $1, $2) }
    }

    /// Unprotects the SRTCP packet in the first `length` bytes of `buffer` in place.
    /// - Returns: the plain RTCP packet's length.
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        precondition(self.direction == .inbound, "unprotectRTCP on an outbound SRTPSession")
        guard length >= 8 + self.profile.rtcpOverhead, length <= buffer.count else {
            throw SRTPError.local(.malformed)
        }
        return try self.call(buffer, length: length) { srtp_unprotect_rtcp($0, $1, $2) }
    }

    // MARK: - Private

    private func call(
        _ buffer: UnsafeMutableRawBufferPointer,
        length: Int,
        _ operation: (srtp_t, UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> srtp_err_status_t
    ) throws(SRTPError) -> Int {
        guard let base = buffer.baseAddress, length <= Int(Int32.max) else { throw SRTPError.local(.malformed) }
        var cLength = Int32(length)
        let status = operation(self.context, base, &cLength)
        guard status == srtp_err_status_ok else { throw SRTPError.libsrtp(Int32(bitPattern: status.rawValue)) }
        return Int(cLength)
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
