public import NIOCore

extension PacketClassifier {
    /// Classifies the readable bytes of `buffer` (RFC 7983); see ``classify(_:)-(UnsafeRawBufferPointer)``.
    @inlinable
    public static func classify(_ buffer: ByteBuffer) -> PacketKind {
        buffer.withUnsafeReadableBytes { classify($0) }
    }
}
