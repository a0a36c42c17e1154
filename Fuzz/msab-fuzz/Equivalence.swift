import MessagePack
import Redis

/// "The same value" for the round-trip checks: `==`, except that doubles compare by bit
/// pattern, since a NaN read off the wire is never `==` to itself yet must survive a round trip.
enum Equivalence {
    static func same(_ a: RESPValue, _ b: RESPValue) -> Bool {
        switch (a, b) {
        case (.double(let x), .double(let y)):
            return x.bitPattern == y.bitPattern
        case (.array(let x), .array(let y)), (.set(let x), .set(let y)), (.push(let x), .push(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.map(let x), .map(let y)):
            return same(x, y)
        case (.attribute(let xPairs, let x), .attribute(let yPairs, let y)):
            return same(xPairs, yPairs) && same(x, y)
        default:
            return a == b
        }
    }

    static func same(_ x: [RESPPair], _ y: [RESPPair]) -> Bool {
        x.count == y.count && zip(x, y).allSatisfy { same($0.key, $1.key) && same($0.value, $1.value) }
    }

    static func same(_ a: MessagePackValue, _ b: MessagePackValue) -> Bool {
        switch (a, b) {
        case (.float(let x), .float(let y)):
            return x.bitPattern == y.bitPattern
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.map(let x), .map(let y)):
            return x.count == y.count && zip(x.entries, y.entries).allSatisfy { same($0.key, $1.key) && same($0.value, $1.value) }
        default:
            return a == b
        }
    }

    /// A value's description, cut short: a trap message must stay readable.
    static func preview(_ value: Any) -> String {
        let text = String(describing: value)
        return text.count <= 400 ? text : String(text.prefix(400)) + "…"
    }
}
