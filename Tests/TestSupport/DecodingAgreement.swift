import Foundation
import SocketIOParser

/// Checks `JSONValueDecoder` against the text path (the JSON written out, then Foundation's
/// `JSONDecoder`) on a value and on random mutations of it: wherever the direct decoder answers,
/// the text path must answer the same value (it may fall back as often as it likes).
public struct DecodingAgreement {
    /// How many cases the direct decoder answered, and how many it left to the text path.
    public var answered = 0
    public var fellBack = 0
    /// The cases where the two disagreed: the JSON and both answers.
    public var disagreements: [String] = []

    public init() {}

    public mutating func check<T: Decodable>(_ type: T.Type, _ value: JSONValue) {
        guard let direct = JSONValueDecoder.decodeIfSure(type, from: value) else {
            fellBack += 1
            return
        }
        answered += 1
        guard let text = try? JSONDecoder().decode(type, from: Data(value.jsonString.utf8)) else {
            disagreements.append("\(value.jsonString): direct \(Self.canonical(direct)), text path failed")
            return
        }
        if Self.canonical(direct) != Self.canonical(text) {
            disagreements.append("\(value.jsonString): direct \(Self.canonical(direct)), text \(Self.canonical(text))")
        }
    }

    /// `value` and `count` random mutations of it (seeded: a failure replays).
    public mutating func checkMutations<T: Decodable>(_ type: T.Type, of value: JSONValue, count: Int, seed: UInt64) {
        check(type, value)
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<count {
            var mutated = value
            for _ in 0...Int.random(in: 0...2, using: &generator) { mutated = Self.mutate(mutated, using: &generator) }
            check(type, mutated)
        }
    }

    /// Values chosen for where decoders differ: integer edges, -0, the bound beyond which
    /// the direct decoder does not answer, numbers that are strings and strings that are numbers.
    public static let leaves: [JSONValue] = [
        .null, .bool(true), .bool(false), .number(0), .number(-0.0), .number(1), .number(-1), .number(1.5), .number(255), .number(256),
        .number(-129), .number(65_536), .number(4_294_967_296), .number(999_999_999_999_999), .number(1e15), .number(1e16),
        .number(9_007_199_254_740_994), .number(1e300), .number(-2.5e-8), .string(""), .string("x"), .string("1"), .string("true"),
        .string("audio"), .array([]), .array([.number(1)]), .object(JSONObject()), .object(JSONObject([("a", .number(1))])),
    ]

    /// One random change: a node replaced by a leaf, a key removed or added, an element dropped.
    public static func mutate(_ value: JSONValue, using generator: inout SeededGenerator) -> JSONValue {
        switch value {
        case .object(var object) where !object.entries.isEmpty && Int.random(in: 0..<4, using: &generator) != 0:
            let index = Int.random(in: 0..<object.entries.count, using: &generator)
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: object.entries.remove(at: index)
            case 1: object.entries.append(("unknownKey", leaves.randomElement(using: &generator)!))
            default: object.entries[index].value = mutate(object.entries[index].value, using: &generator)
            }
            return .object(object)
        case .array(var array) where !array.isEmpty && Int.random(in: 0..<4, using: &generator) != 0:
            let index = Int.random(in: 0..<array.count, using: &generator)
            if Int.random(in: 0..<6, using: &generator) == 0 {
                array.remove(at: index)
            } else {
                array[index] = mutate(array[index], using: &generator)
            }
            return .array(array)
        default:
            return leaves.randomElement(using: &generator)!
        }
    }

    /// A description that two equal values share: dictionaries by sorted entries (their order
    /// is the hash's), everything else by type and fields, numbers with their sign of zero.
    public static func canonical(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .dictionary:
            return "[" + mirror.children.map { canonical($0.value) }.sorted().joined(separator: ", ") + "]"
        case .optional:
            guard let child = mirror.children.first else { return "nil" }
            return canonical(child.value)
        case .struct, .class, .enum, .tuple, .collection, .set:
            guard !mirror.children.isEmpty else { return String(reflecting: value) }
            let children = mirror.children.map { ($0.label ?? "") + ":" + canonical($0.value) }
            let listed = mirror.displayStyle == .set ? children.sorted() : children
            return "\(type(of: value))(" + listed.joined(separator: ", ") + ")"
        default:
            return String(reflecting: value)
        }
    }
}
