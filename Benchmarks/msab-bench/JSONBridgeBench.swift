import Foundation
import MediasoupWire
import SocketIOParser

/// The JSON bridge between Codable payloads and `JSONValue`, both ways, against the slower path
/// each replaced: a `room:join` answer's 200 profiles through `Encoder` or `JSONValueConvertible`,
/// and an `audio:consume` payload (the client's RTP capabilities) through JSON text and
/// `JSONDecoder` or `JSONValueDecoder`.
func jsonBridgeBenchmarks() {
    struct Profile: Encodable {
        var id: Int
        var name: String
        var avatar: String
        var frame: Int
        var wealth: String
        var isSpeaker: Bool
    }
    struct DirectProfile: JSONValueConvertible {
        var profile: Profile
        func encode(to encoder: any Encoder) throws { try profile.encode(to: encoder) }
        var jsonValue: JSONValue {
            .object(
                JSONObject([
                    ("id", .number(Double(profile.id))), ("name", .string(profile.name)), ("avatar", .string(profile.avatar)),
                    ("frame", .number(Double(profile.frame))), ("wealth", .string(profile.wealth)), ("isSpeaker", .bool(profile.isSpeaker)),
                ]))
        }
    }
    let profiles = (0..<200).map {
        Profile(id: 1_000 + $0, name: "User \($0)", avatar: "https://cdn.example.com/a/\($0).png", frame: 3, wealth: "1234.50", isSpeaker: $0 < 3)
    }
    let direct = profiles.map(DirectProfile.init)
    var sink = 0
    let viaEncoder = measure(300) { sink &+= (try? JSONValue(encoding: profiles))?.arrayValue?.count ?? 0 }
    let viaDirect = measure(300) { sink &+= (try? JSONValue(encoding: direct))?.arrayValue?.count ?? 0 }
    let value = (try? JSONValue(encoding: direct)) ?? .null
    let write = measure(300) {
        var out: [UInt8] = []
        value.write(into: &out)
        sink &+= out.count
    }
    print(
        "JSON encode (200 profiles, a room:join answer's): via Encoder \(format(viaEncoder)), direct \(format(viaDirect));"
            + " written as text \(format(write))")

    struct Consume: Decodable {
        var roomId: String
        var transportId: String
        var producerId: String
        var rtpCapabilities: RtpCapabilities
    }
    let capabilities = (try? ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs)).flatMap { try? JSONValue(encoding: $0) }
    let payload: JSONValue = [
        "roomId": "room-1", "transportId": "6f1c2f4e-8a9b-4c3d-9e2f-1a2b3c4d5e6f", "producerId": "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5",
        "rtpCapabilities": capabilities ?? .null,
    ]
    let viaText = measure(5_000) {
        var bytes: [UInt8] = []
        payload.write(into: &bytes)
        sink &+= (try? JSONDecoder().decode(Consume.self, from: Data(bytes)))?.roomId.count ?? 0
    }
    let viaValue = measure(5_000) { sink &+= (try? payload.decode(Consume.self))?.roomId.count ?? 0 }
    print("JSON decode (audio:consume payload with RTP capabilities): via text + JSONDecoder \(format(viaText)), direct \(format(viaValue))")
    if sink == 42 { print("") }
}
