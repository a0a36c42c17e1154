public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Engine.IO protocol v4 packets (docs/engine.io-protocol/v4-current.md, "Protocol" section):
//
//   type | id | description
//   -----+----+------------------------------------------------------------
//   open |  0 | handshake: 0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}
//   close|  1 | the transport can be closed
//   ping |  2 | heartbeat (sent by the server in v4), "2probe" during an upgrade
//   pong |  3 | heartbeat answer, "3probe" during an upgrade
//   message 4 | payload: 4<text> or a binary frame (WebSocket) / b<base64> (polling)
//   upgrade 5 | the client switches to the new transport
//   noop |  6 | used to end a pending long-poll during an upgrade
//
// Over HTTP long-polling several packets travel in one body, separated by the record separator
// 0x1E ("\x1e"); a binary message is the character "b" followed by its base64.

/// The Engine.IO packet types.
public enum EnginePacketType: UInt8, Sendable, Hashable {
    case open = 0, close, ping, pong, message, upgrade, noop
}

/// One Engine.IO packet.
public struct EnginePacket: Sendable, Hashable {
    public enum Payload: Sendable, Hashable {
        case none
        case text(String)
        case binary(ByteBuffer)
    }

    public var type: EnginePacketType
    public var payload: Payload

    public init(_ type: EnginePacketType, _ payload: Payload = .none) {
        self.type = type
        self.payload = payload
    }

    public static func text(_ text: String) -> EnginePacket { EnginePacket(.message, .text(text)) }
    public static func binary(_ bytes: ByteBuffer) -> EnginePacket { EnginePacket(.message, .binary(bytes)) }
}

/// Why a client's bytes could not be decoded.
public struct EngineParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "Engine.IO parse error: \(reason)" }
}

public enum EngineIOCodec {
    /// The record separator between packets of a long-polling payload.
    public static let separator: Character = "\u{1e}"
    static let separatorByte: UInt8 = 0x1E

    // MARK: - single packets (WebSocket frames)

    /// Encodes a packet as a WebSocket text frame's content. Binary messages go as binary frames
    /// (use `encodeForWebSocket`), so this is only for text-ish packets.
    public static func encodeText(_ packet: EnginePacket) -> String {
        switch packet.payload {
        case .none: return String(packet.type.rawValue)
        case .text(let text): return String(packet.type.rawValue) + text
        case .binary(let bytes): return "b" + Base64.encode(bytes.readableBytesView)
        }
    }

    /// A WebSocket frame for a packet: text frames for text packets, a binary frame carrying the
    /// raw bytes for a binary message.
    public enum Frame: Sendable, Hashable {
        case text(String)
        case binary(ByteBuffer)
    }

    public static func encodeForWebSocket(_ packet: EnginePacket) -> Frame {
        if case .binary(let bytes) = packet.payload, packet.type == .message { return .binary(bytes) }
        return .text(encodeText(packet))
    }

    /// Decodes the content of a WebSocket text frame (or one record of a polling payload).
    public static func decodeText<S: StringProtocol>(_ text: S) throws(EngineParseError) -> EnginePacket {
        guard let first = text.utf8.first else { throw EngineParseError("empty packet") }
        if first == UInt8(ascii: "b") {
            guard let bytes = Base64.decode(text.utf8.dropFirst()) else { throw EngineParseError("invalid base64") }
            var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            return .binary(buffer)
        }
        guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "6"), let type = EnginePacketType(rawValue: first - UInt8(ascii: "0")) else {
            throw EngineParseError("unknown packet type")
        }
        // Drop the type byte, not the first Character: "4" followed by a combining mark is one
        // grapheme cluster, and the mark belongs to the message.
        let rest = text.utf8.dropFirst()
        return EnginePacket(type, rest.isEmpty && type != .message ? .none : .text(String(decoding: rest, as: UTF8.self)))
    }

    /// A WebSocket binary frame is always a binary message.
    public static func decodeBinaryFrame(_ bytes: ByteBuffer) -> EnginePacket { .binary(bytes) }

    // MARK: - long-polling payloads

    /// Encodes packets as one long-polling response body.
    public static func encodePayload(_ packets: [EnginePacket]) -> String {
        var out = ""
        for (index, packet) in packets.enumerated() {
            if index > 0 { out.append(separator) }
            out += encodeText(packet)
        }
        return out
    }

    /// Decodes a long-polling request body.
    public static func decodePayload(_ body: String) throws(EngineParseError) -> [EnginePacket] {
        guard !body.isEmpty else { throw EngineParseError("empty payload") }
        // Split on the UTF-8 bytes with memchr: the separator is ASCII (a grapheme boundary on
        // both sides, so this finds what a Character split finds), and a Character split walks
        // grapheme clusters, which cost a 1 MB body tens of milliseconds of CPU.
        var packets: [EnginePacket] = []
        var failure: EngineParseError?
        var body = body
        body.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            while start <= bytes.count {
                let remaining = bytes.count - start
                let found = remaining > 0 ? memchr(base + start, Int32(separatorByte), remaining) : nil
                let end = found.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? bytes.count
                let record = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                do throws(EngineParseError) {
                    packets.append(try decodeText(record))
                } catch {
                    failure = error
                    return
                }
                start = end + 1
            }
        }
        if let failure { throw failure }
        return packets
    }
}
