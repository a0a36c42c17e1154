public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        if let remembered = self.text, let bytes, Self.sameBytes(remembered, text) { return bytes }
        let encoded = encode(text)
        self.text = text
        self.bytes = encoded
        return encoded
    }

    /// Byte equality with memcmp over native strings' storage (a generic element-by-element
    /// walk cost more than the encoding it saves). A broadcast hands every socket the same
    /// string (``EngineBroadcastMessage`` encodes once), so the storage is usually one and the
    /// same: then no byte is compared.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                x.count == 0 || x.baseAddress == y.baseAddress || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0
            }
        }
        if let fast, let result = fast { return result }
        return a.utf8.elementsEqual(b.utf8)
    }
}
