import Foundation
import MediasoupWire
import SocketIOParser
import Testing

@testable import AudioRooms

/// The payloads that build their JSON themselves (`JSONValueConvertible`) say what their
/// `encode(to:)` says, key order included: the fast path must not change the wire.
@Suite struct PayloadJSONTests {
    static func viaText(_ value: some Encodable) throws -> JSONValue { try JSONValue.parse(JSONEncoder().encode(value)) }

    static func keys(_ value: JSONValue) -> [String] { value.objectValue?.keys ?? [] }

    static let full = UserProfile(
        id: 7,
        fields: [
            ("name", .string("Ana \"A\" \\ é🎙")), ("email", .string("private@example.com")), ("avatar", .string("https://cdn/a.png")),
            ("frame", .int(3)), ("gender", .null), ("wealth_xp", .string("12.50")), ("charm_xp", .double(1.5)), ("vip", .bool(true)),
            ("country", .string("EG")),
        ])

    @Test(arguments: [nil, true, false] as [Bool?])
    func aProfileMatchesItsEncoder(isSpeaker: Bool?) throws {
        for profile in [Self.full, UserProfile(id: 8)] {
            let public_ = PublicProfile(profile, isSpeaker: isSpeaker)
            #expect(try public_.jsonValue == Self.viaText(public_))
            #expect(Self.keys(public_.jsonValue) == profile.publicFields.map(\.key) + (isSpeaker == nil ? [] : ["isSpeaker"]))
        }
        // Never a private field (design.md §2 fix 12).
        #expect(PublicProfile(Self.full).jsonValue["email"] == nil && PublicProfile(Self.full).jsonValue["vip"] == nil)
    }

    @Test func aNonFiniteProfileNumberIsNullBothWays() throws {
        let profile = PublicProfile(UserProfile(id: 9, fields: [("wealth_xp", .double(.nan)), ("charm_xp", .double(-.infinity))]))
        #expect(profile.jsonValue == ["id": 9, "wealth_xp": nil, "charm_xp": nil])
        #expect(try Self.viaText(profile) == profile.jsonValue)
    }

    @Test func theJoinAnswerMatchesItsEncoder() throws {
        let capabilities = try ORTC.generateRouterRtpCapabilities(mediaCodecs: ORTC.msabMediaCodecs)
        let ack = RoomJoinAck(
            rtpCapabilities: capabilities,
            participants: [PublicProfile(Self.full, isSpeaker: true), PublicProfile(UserProfile(id: 8), isSpeaker: false)],
            seats: [SeatState(seatIndex: 2, user: PublicProfile(Self.full), isMuted: true)], lockedSeats: [4, 9],
            existingProducers: [ProducerRef(producerId: "p-1", userId: 7)])
        #expect(try ack.jsonValue == Self.viaText(ack))
        #expect(Self.keys(ack.jsonValue) == ["rtpCapabilities", "participants", "seats", "lockedSeats", "existingProducers"])
        // The capabilities are cached by value: other capabilities are encoded afresh.
        var other = capabilities
        other.headerExtensions = []
        let second = RoomJoinAck(rtpCapabilities: other, participants: [], seats: [], lockedSeats: [], existingProducers: [])
        #expect(try second.jsonValue == Self.viaText(second))
        #expect(try ack.jsonValue == Self.viaText(ack))
    }
}
