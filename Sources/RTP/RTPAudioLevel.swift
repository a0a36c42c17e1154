/// The RFC 6464 client-to-mixer audio level carried in the `ssrc-audio-level` header extension.
///
/// RFC 6464 §3, one-byte form:
/// ```
///  0                   1
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  ID   | len=0 |V| level       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// `level` is the magnitude of the level in -dBov, 0 (loudest) to 127 (silence or below).
public struct RTPAudioLevel: Sendable, Hashable {
    /// The V flag: the sender's voice-activity detector says this packet contains speech.
    public var voiceActivity: Bool
    /// Level in -dBov: 0 is loudest, 127 is silence.
    public var level: UInt8

    @inlinable
    public init(voiceActivity: Bool, level: UInt8) {
        self.voiceActivity = voiceActivity
        self.level = level & 0x7F
    }

    /// Decodes the first data byte of the extension element.
    @inlinable
    public init(byte: UInt8) {
        self.init(voiceActivity: byte & 0x80 != 0, level: byte & 0x7F)
    }

    /// The encoded data byte.
    @inlinable
    public var byte: UInt8 { (voiceActivity ? 0x80 : 0) | level }

    /// The level in dBov (0 … -127).
    @inlinable
    public var dBov: Int { -Int(level) }
}
