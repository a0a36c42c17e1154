import Foundation
import SocketIOParser
import TestSupport
import Testing

/// `JSONValueDecoder` answers only what the text path (JSON text, then `JSONDecoder`) answers.
@Suite struct JSONValueDecoderTests {
    enum Role: String, Decodable { case owner, admin }

    /// Tried as Bool, then Int, then Double, then String, each under `try?` (as mediasoup's codec
    /// parameters are): the shape where a swallowed "not sure" could pick another branch.
    enum Param: Decodable {
        case bool(Bool), int(Int), double(Double), string(String)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int.self) {
                self = .int(value)
            } else if let value = try? container.decode(Double.self) {
                self = .double(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }
    }

    struct Nested: Decodable {
        var small: Int8
        var port: UInt16
        var ssrc: UInt32
        var big: Int64?
        var level: Double
    }

    struct Payload: Decodable {
        var roomId: String
        var seatIndex: Int
        var muted: Bool
        var role: Role?
        var tags: [String]
        var params: [String: Param]
        var byId: [Int: String]?
        var nested: [Nested]
        var matrix: [[Int]]
        var note: String?
    }

    static let sample: JSONValue = [
        "roomId": "r-1", "seatIndex": 3, "muted": false, "role": "admin", "tags": ["a", "b"],
        "params": ["useinbandfec": 1, "stereo": true, "ptime": 20.5, "profile": "x"],
        "byId": ["7": "seven", "8": "eight"], "nested": [["small": -8, "port": 40_000, "ssrc": 4_000_000_000, "level": -0.0]],
        "matrix": [[1, 2], []], "note": nil,
    ]

    @Test func theSampleIsAnsweredDirectlyWhereItCanBeAndAgrees() throws {
        var agreement = DecodingAgreement()
        agreement.check(Payload.self, Self.sample)
        #expect(agreement.answered == 1, "the direct path must answer a plain payload")
        #expect(agreement.disagreements.isEmpty, "\(agreement.disagreements)")
    }

    @Test func aSwallowedUnsureAnswerStillFallsBack() throws {
        // 1e16 is integral but beyond the bound: `Int` is unsure, the `try?` moves on to Double,
        // and the direct result would be `.double`; the text path says `.int`.
        #expect(JSONValueDecoder.decodeIfSure(Param.self, from: .number(1e16)) == nil)
        guard case .int(let value) = try JSONValue.number(1e16).decode(Param.self) else {
            Issue.record("expected the text path's Int")
            return
        }
        #expect(value == 10_000_000_000_000_000)
        // The same deep inside a payload.
        var payload = Self.sample.objectValue!
        payload["params"] = ["ptime": 20, "huge": 1e16]
        #expect(JSONValueDecoder.decodeIfSure(Payload.self, from: .object(payload)) == nil)
        #expect(JSONValueDecoder.decodeIfSure(Payload.self, from: Self.sample) != nil)
    }

    @Test func errorsAreTheTextPaths() throws {
        // A failure is always decided (and described) by JSONDecoder.
        var value = Self.sample.objectValue!
        value["seatIndex"] = "3"
        #expect(JSONValueDecoder.decodeIfSure(Payload.self, from: .object(value)) == nil)
        #expect(throws: DecodingError.self) { try JSONValue.object(value).decode(Payload.self) }
    }

    @Test func edgesAgree() {
        var agreement = DecodingAgreement()
        let types: [any Decodable.Type] = [
            Int.self, Int8.self, UInt8.self, UInt16.self, UInt32.self, Int64.self, UInt64.self, Double.self, Float.self, Bool.self,
            String.self, Param.self, Role.self, Int?.self, [Int].self, [String: Int].self, Date.self, URL.self,
        ]
        for leaf in DecodingAgreement.leaves {
            for type in types { agreement.check(type, leaf) }
        }
        #expect(agreement.disagreements.isEmpty, "\(agreement.disagreements)")
        #expect(agreement.answered > 50 && agreement.fellBack > 50)
    }

    /// Records where it was decoded: the decoders' `codingPath`s must agree too.
    struct PathProbe: Decodable {
        var path: [String]
        init(from decoder: any Decoder) throws {
            path = decoder.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            _ = try decoder.singleValueContainer().decodeNil()
        }
    }

    struct Paths: Decodable {
        var top: PathProbe
        var list: [PathProbe]
        var nested: [String: [[PathProbe]]]
    }

    @Test func codingPathsAgree() {
        var agreement = DecodingAgreement()
        agreement.check(Paths.self, ["top": nil, "list": [1, "x", nil], "nested": ["k": [[], [true, 2]], "7": [[nil]]]])
        #expect(agreement.answered == 1 && agreement.disagreements.isEmpty, "\(agreement.disagreements)")
    }

    @Test(arguments: 0..<4)
    func randomMutationsAgree(seed: Int) {
        var agreement = DecodingAgreement()
        agreement.checkMutations(Payload.self, of: Self.sample, count: 500, seed: UInt64(seed))
        #expect(agreement.disagreements.isEmpty, "\(agreement.disagreements.prefix(5))")
        #expect(agreement.answered > 0)
    }
}
