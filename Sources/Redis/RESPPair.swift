/// One key/value entry of a RESP3 map or attribute (a tuple cannot be `Hashable`).
public struct RESPPair: Sendable, Hashable {
    public var key: RESPValue
    public var value: RESPValue

    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}
