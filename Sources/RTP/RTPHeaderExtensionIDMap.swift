/// A table from a producer's header-extension ids to the ids a consumer expects (the router's),
/// applied in place by ``RTPPacketView/remapExtensionIDs(_:)``.
///
/// mediasoup rewrites extension ids when it forwards (`Producer::MangleRtpPacket` maps the client's
/// ids to the router's); pymediasoup sends mid=1/audio-level=2 and Chrome audio-level=1/mid=4, while
/// consumers were told the router's ids. Ids without a mapping are removed (turned into padding)
/// because they could mean something else to the receiver.
///
/// The table is built once per producer/consumer pair and costs one array lookup per element.
public struct RTPHeaderExtensionIDMap: Sendable, Hashable {
    @usableFromInline var table: [UInt8]

    /// An empty map: every extension is removed.
    public init() {
        self.table = [UInt8](repeating: 0, count: 256)
    }

    /// A map from `(from, to)` pairs. Ids are 1–255; a 0 in either position is ignored.
    public init(_ pairs: [(from: UInt8, to: UInt8)]) {
        self.init()
        for pair in pairs where pair.from != 0 {
            table[Int(pair.from)] = pair.to
        }
    }

    /// The identity map for `ids`: keep them, drop all others.
    public static func keeping(_ ids: [UInt8]) -> RTPHeaderExtensionIDMap {
        RTPHeaderExtensionIDMap(ids.map { (from: $0, to: $0) })
    }

    /// The id `id` maps to, 0 meaning "remove".
    @inlinable
    public subscript(id: UInt8) -> UInt8 {
        get { table[Int(id)] }
        set { if id != 0 { table[Int(id)] = newValue } }
    }
}
