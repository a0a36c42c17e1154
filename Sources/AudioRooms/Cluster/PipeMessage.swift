import Foundation
import MediasoupWire

/// The messages nodes exchange to carry a producer's audio to another node (issue 13 item 3),
/// one JSON object per Redis message on the addressee's channel `msab:pipe:{node}`:
///
/// ```
/// B → A  {"type":"pipe","id":"7","from":B,"room":R,"producerId":P,"ip":…,"port":…,"srtp":{cryptoSuite,keyBase64}}
/// A → B  {"type":"piped","id":"7","from":A,"ip":…,"port":…,"srtp":{…},"kind":"audio","rtpParameters":{…},"paused":false}
/// A → B  {"type":"pipeFailed","id":"7","from":A,"error":"unknown producer"}
/// B → A  {"type":"unpipe","from":B,"room":R,"producerId":P}          (B's last consumer of P went)
/// A → B  {"type":"paused"|"resumed"|"closed","from":A,"room":R,"producerId":P}
/// A → *  {"type":"levels","from":A,"room":R,"seq":"12","levels":[{"userId":7,"volume":-20},…]}
///                                  (A's speakers in R, to every other node of R: ``RoomSpeakerView``)
/// ```
///
/// Every field comes from another process that may be compromised or buggy: ``decode(_:)``
/// refuses anything oversized, missing, mistyped or out of range with a typed error and never
/// traps. What it accepts is only well-formed; whether the sender may say it (is P really that
/// node's producer, does B hold a copy of it) is for the receiver to check.
public enum PipeMessage: Sendable, Hashable {
    /// B asks A to send producer `producerId` of room `room` to B's pipe end.
    case request(PipeRequest)
    /// A's answer: its pipe end and the producer's parameters over the pipe.
    case reply(PipeReply)
    /// A could not pipe it (`error` is for logs).
    case failed(id: UInt64, from: String, error: String)
    /// B no longer needs P: A closes its end of that pipe.
    case unpipe(from: String, room: String, producerId: String)
    /// A's producer P was paused, resumed or closed: B's copy follows.
    case producerPaused(from: String, room: String, producerId: String, paused: Bool)
    case producerClosed(from: String, room: String, producerId: String)
    /// A's latest audio levels of its own producers in room `room` (its users above the threshold,
    /// loudest first; empty on silence), numbered per sender so a late one can be told apart.
    case speakerLevels(from: String, room: String, sequence: UInt64, levels: [RoomSpeakerView.Level])

    /// Where a node receives these messages.
    public static func channel(of node: String) -> String { "msab:pipe:\(node)" }

    // MARK: - Limits

    /// Longest message accepted: a request is ~300 bytes, a reply with Opus parameters ~1 kB.
    public static let maxMessageBytes = 16 * 1024
    /// Node ids are the adapter's 6-character uids; room ids and producer ids (UUIDs) are short.
    static let maxIdLength = 128
    static let maxErrorLength = 200
    static let maxCodecs = 8
    static let maxHeaderExtensions = 16
    /// The AudioLevelObserver reports at most 16 users; twice that is refused as hostile.
    static let maxLevels = 32

    // MARK: - Codec

    public func encode() -> Data {
        var wire = Wire()
        switch self {
        case .request(let r):
            wire.type = "pipe"
            wire.id = String(r.id)
            wire.from = r.from
            wire.room = r.room
            wire.producerId = r.producerId
            wire.ip = r.end.ip
            wire.port = Int(r.end.port)
            wire.srtp = r.end.srtpParameters
        case .reply(let r):
            wire.type = "piped"
            wire.id = String(r.id)
            wire.from = r.from
            wire.ip = r.end.ip
            wire.port = Int(r.end.port)
            wire.srtp = r.end.srtpParameters
            wire.kind = r.kind
            wire.rtpParameters = r.rtpParameters
            wire.paused = r.paused
        case .failed(let id, let from, let error):
            wire.type = "pipeFailed"
            wire.id = String(id)
            wire.from = from
            wire.error = String(error.prefix(Self.maxErrorLength))
        case .unpipe(let from, let room, let producerId):
            wire.type = "unpipe"
            wire.from = from
            wire.room = room
            wire.producerId = producerId
        case .producerPaused(let from, let room, let producerId, let paused):
            wire.type = paused ? "paused" : "resumed"
            wire.from = from
            wire.room = room
            wire.producerId = producerId
        case .producerClosed(let from, let room, let producerId):
            wire.type = "closed"
            wire.from = from
            wire.room = room
            wire.producerId = producerId
        case .speakerLevels(let from, let room, let sequence, let levels):
            wire.type = "levels"
            wire.from = from
            wire.room = room
            wire.seq = String(sequence)
            wire.levels = levels.prefix(Self.maxLevels).map { Wire.Level(userId: $0.userId, volume: $0.volume) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(wire)) ?? Data("{}".utf8)
    }

    public static func decode(_ data: Data) throws(PipeMessageError) -> PipeMessage {
        guard data.count <= maxMessageBytes else { throw PipeMessageError(.tooLarge) }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: data)
        } catch {
            throw PipeMessageError(.malformed)
        }
        guard let type = wire.type else { throw PipeMessageError(.missingField, "type") }
        let from = try identifier(wire.from, "from")
        switch type {
        case "pipe":
            return .request(
                PipeRequest(
                    id: try requestId(wire.id), from: from, room: try identifier(wire.room, "room"),
                    producerId: try identifier(wire.producerId, "producerId"), end: try end(wire)))
        case "piped":
            guard let kind = wire.kind else { throw PipeMessageError(.missingField, "kind") }
            guard let parameters = wire.rtpParameters else { throw PipeMessageError(.missingField, "rtpParameters") }
            guard parameters.codecs.count <= maxCodecs, !parameters.codecs.isEmpty,
                (parameters.headerExtensions?.count ?? 0) <= maxHeaderExtensions,
                (parameters.encodings?.count ?? 0) == 1
            else { throw PipeMessageError(.outOfRange, "rtpParameters") }
            return .reply(
                PipeReply(
                    id: try requestId(wire.id), from: from, end: try end(wire), kind: kind, rtpParameters: parameters,
                    paused: wire.paused ?? false))
        case "pipeFailed":
            let error = wire.error ?? ""
            guard error.utf8.count <= maxErrorLength else { throw PipeMessageError(.outOfRange, "error") }
            return .failed(id: try requestId(wire.id), from: from, error: error)
        case "unpipe":
            return .unpipe(from: from, room: try identifier(wire.room, "room"), producerId: try identifier(wire.producerId, "producerId"))
        case "paused", "resumed":
            return .producerPaused(
                from: from, room: try identifier(wire.room, "room"), producerId: try identifier(wire.producerId, "producerId"),
                paused: type == "paused")
        case "closed":
            return .producerClosed(from: from, room: try identifier(wire.room, "room"), producerId: try identifier(wire.producerId, "producerId"))
        case "levels":
            guard let levels = wire.levels else { throw PipeMessageError(.missingField, "levels") }
            guard levels.count <= maxLevels else { throw PipeMessageError(.outOfRange, "levels") }
            var decoded: [RoomSpeakerView.Level] = []
            for level in levels {
                guard let userId = level.userId, let volume = level.volume else { throw PipeMessageError(.missingField, "levels") }
                // dBov (RFC 6464): 0 loudest … -127; user ids are positive.
                guard (-127...0).contains(volume), userId > 0 else { throw PipeMessageError(.outOfRange, "levels") }
                decoded.append(RoomSpeakerView.Level(userId: userId, volume: volume))
            }
            return .speakerLevels(from: from, room: try identifier(wire.room, "room"), sequence: try requestId(wire.seq, "seq"), levels: decoded)
        default:
            throw PipeMessageError(.unknownType)
        }
    }

    /// A non-empty id of printable ASCII without spaces (node uids, room ids, UUIDs), bounded.
    private static func identifier(_ value: String?, _ field: String) throws(PipeMessageError) -> String {
        guard let value else { throw PipeMessageError(.missingField, field) }
        guard !value.isEmpty, value.utf8.count <= maxIdLength, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw PipeMessageError(.outOfRange, field)
        }
        return value
    }

    /// Request ids (and level sequence numbers) are decimal strings (a JSON number would lose
    /// precision past 2^53 in other languages' decoders), parsed without trapping.
    private static func requestId(_ value: String?, _ field: String = "id") throws(PipeMessageError) -> UInt64 {
        guard let value else { throw PipeMessageError(.missingField, field) }
        guard value.utf8.count <= 20, let id = UInt64(value) else { throw PipeMessageError(.outOfRange, field) }
        return id
    }

    private static func end(_ wire: Wire) throws(PipeMessageError) -> PipeEnd {
        guard let ip = wire.ip else { throw PipeMessageError(.missingField, "ip") }
        // An IP literal (the SFU parses it again before use); 45 covers the longest IPv6 text form.
        guard !ip.isEmpty, ip.utf8.count <= 45, ip.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") || isHex($0) }) else {
            throw PipeMessageError(.outOfRange, "ip")
        }
        guard let port = wire.port else { throw PipeMessageError(.missingField, "port") }
        guard (1...65_535).contains(port), let port16 = UInt16(exactly: port) else { throw PipeMessageError(.outOfRange, "port") }
        if let srtp = wire.srtp {
            guard srtp.cryptoSuite.utf8.count <= 32, srtp.keyBase64.utf8.count <= 64 else { throw PipeMessageError(.outOfRange, "srtp") }
        }
        return PipeEnd(ip: ip, port: port16, srtpParameters: wire.srtp)
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    /// The JSON shape: every field optional, so a missing one is our error, not the decoder's.
    struct Wire: Codable {
        var type: String?
        var id: String?
        var from: String?
        var room: String?
        var producerId: String?
        var ip: String?
        var port: Int?
        var srtp: SrtpParameters?
        var kind: MediaKind?
        var rtpParameters: RtpParameters?
        var paused: Bool?
        var error: String?
        var seq: String?
        var levels: [Level]?

        struct Level: Codable {
            var userId: Int?
            var volume: Int?
        }
    }
}
