public import NIOCore

/// The encoded bytes of the last text frame a sink wrote within one event-loop task of a
/// broadcast, so the sockets of that loop share one encoding (server frames are unmasked: every
/// recipient's frame is byte for byte the same) instead of each making its own copy.
///
/// Created by ``EngineWriteBatch`` for each loop's task and used only inside it (not Sendable).
public final class EngineFrameMemo {
    private var text: String?
    private var bytes: ByteBuffer?

    public init() {}

    /// The bytes for `text`: the remembered ones when it is the same text, else `encode(text)`
    /// (then remembered). Compared byte for byte: a broadcast gives each socket its own copy of
    /// the same string, and `==` on String would compare canonical equivalence.
    public func bytes(for text: String, encode: (String) -> ByteBuffer) -> ByteBuffer {
        if let remembered = self.text, let bytes, remembered.utf8.count == text.utf8.count, remembered.utf8.elementsEqual(text.utf8) {
            return bytes
        }
        let encoded = encode(text)
        self.text = text
        self.bytes = encoded
        return encoded
    }
}
