import Foundation
import Testing

@testable import MediasoupWire

@Suite("CodecParameterValue")
struct CodecParameterValueTests {
    @Test(arguments: [
        (#"1"#, CodecParameterValue.integer(1)),
        (#"0"#, .integer(0)),
        (#"-5"#, .integer(-5)),
        (#"0.5"#, .double(0.5)),
        (#""42e01f""#, .string("42e01f")),
        (#""1""#, .string("1")),
        (#"true"#, .bool(true)),
        (#"false"#, .bool(false)),
    ])
    func decodesWithItsJSONType(text: String, expected: CodecParameterValue) throws {
        #expect(try decodeJSON(CodecParameterValue.self, text) == expected)
    }

    @Test func integersStayIntegers() throws {
        let parameters: CodecParameters = ["useinbandfec": 1, "usedtx": 0, "minptime": 10, "sprop-stereo": 1]
        let text = String(decoding: try encodeJSON(parameters), as: UTF8.self)
        #expect(text == #"{"minptime":10,"sprop-stereo":1,"usedtx":0,"useinbandfec":1}"#)
    }

    @Test func mixedRecordRoundTrips() throws {
        let text = #"{"apt":100,"foo":"bar","x-google-start-bitrate":1.5,"flag":true}"#
        let decoded = try decodeJSON(CodecParameters.self, text)
        #expect(decoded == ["apt": .integer(100), "foo": .string("bar"), "x-google-start-bitrate": .double(1.5), "flag": .bool(true)])
        #expect(try canonicalJSON(encodeJSON(decoded)) == canonicalJSON(Data(text.utf8)))
    }

    @Test(arguments: [#"null"#, #"[1,2]"#, #"{"a":1}"#])
    func rejectsNonScalars(text: String) {
        #expect(throws: DecodingError.self) { try decodeJSON(CodecParameterValue.self, text) }
    }

    @Test func integerValue() {
        #expect(CodecParameterValue.integer(7).integerValue == 7)
        #expect(CodecParameterValue.double(7).integerValue == 7)
        #expect(CodecParameterValue.double(7.5).integerValue == nil)
        #expect(CodecParameterValue.string("7").integerValue == nil)
    }
}
