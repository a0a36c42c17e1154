/// B asks A for a pipe carrying A's producer `producerId` to B's end (``PipeMessage/request(_:)``).
public struct PipeRequest: Sendable, Hashable {
    public var id: UInt64
    public var from: String
    public var room: String
    public var producerId: String
    public var end: PipeEnd
}
