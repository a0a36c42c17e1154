/// An optional field sent as JSON `null` when it has no value, where synthesized `Encodable`
/// would leave the key out: the reference always sends these keys (`chat:message`'s `userName`
/// and `avatar`, `gift:received`'s sender, `user:room`'s `roomId`), and clients read them.
@propertyWrapper
public struct ExplicitNull<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}
