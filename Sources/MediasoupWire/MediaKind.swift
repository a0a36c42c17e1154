/// The media kind of a codec, header extension or producer (mediasoup `MediaKind`).
///
/// Mirrors `node/src/RtpParameters.ts`: `type MediaKind = 'audio' | 'video'`.
public enum MediaKind: String, Codable, Sendable, Hashable, CaseIterable {
    case audio
    case video
}
