import Crypto
import EngineIOParser
public import NIOCore

// The client side of RFC 6455, sans-I/O: the opening handshake (§4.1 request, §4.2.2 response)
// and the framing (§5.2). Written here rather than with NIO's HTTP upgrader because the server
// (Engine.IO) speaks first, often in the same TCP segment as the 101, and one decoder that owns
// both phases cannot lose those bytes between two pipelines.
//
//      0                   1                   2                   3
//      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//     +-+-+-+-+-------+-+-------------+-------------------------------+
//     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//     | |1|2|3|       |K|             |                               |
//     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//     |     Extended payload length continued, if payload len == 127  |
//     + - - - - - - - - - - - - - - - +-------------------------------+
//     |                               |Masking-key, if MASK set to 1  |
//     +-------------------------------+-------------------------------+
//     | Masking-key (continued)       |          Payload Data         |
//     +-------------------------------- - - - - - - - - - - - - - - - +

/// One WebSocket client connection's codec: feed it the bytes the server sent, get events back;
/// ask it for the bytes of a frame to send.
public struct WebSocketClientCodec: Sendable {
    /// What the server's bytes amounted to.
    public enum Event: Sendable, Hashable {
        /// The server accepted the upgrade (101 with the right Sec-WebSocket-Accept).
        case upgraded
        /// A complete text message.
        case text(String)
        /// A complete binary message.
        case binary(ByteBuffer)
        /// A ping; answer with a pong carrying the same bytes (§5.5.2).
        case ping(ByteBuffer)
        /// The server closed the connection (§5.5.1).
        case close
    }

    /// Why the connection cannot go on.
    public enum Failure: Error, Sendable, Hashable {
        /// No complete HTTP response within ``maximumHandshakeBytes``.
        case handshakeTooLarge
        /// The server answered something other than a valid 101 (the status line).
        case handshakeRejected(String)
        /// A message longer than ``maximumMessageSize``.
        case messageTooLarge
        /// Broken framing (reserved bits, fragmented control frame, stray continuation, bad UTF-8).
        case protocolViolation(String)
    }

    /// The frame types (§5.2).
    public enum Opcode: UInt8, Sendable {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
    }

    private enum State: Sendable {
        case awaitingResponse
        case open
        case closed
    }

    // MARK: - Stored properties

    /// The largest message accepted (the server's Engine.IO maxPayload is 1 MB).
    public let maximumMessageSize: Int
    /// The largest HTTP response head accepted.
    public static let maximumHandshakeBytes = 8_192
    private let expectedAccept: String
    private var state: State = .awaitingResponse
    private var fragmentOpcode: Opcode?
    private var fragments = ByteBuffer()

    // MARK: - Init

    /// - Parameter key: the Sec-WebSocket-Key sent in the request (base64 of 16 random bytes).
    public init(key: String, maximumMessageSize: Int = 1 << 20) {
        self.expectedAccept = Self.acceptValue(forKey: key)
        self.maximumMessageSize = maximumMessageSize
    }

    // MARK: - API

    /// A fresh Sec-WebSocket-Key (§4.1: 16 random bytes, base64).
    public static func makeKey(using generator: inout some RandomNumberGenerator) -> String {
        Base64.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// base64(SHA-1(key ‖ GUID)) (§4.2.2 item 5.4).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(Array(Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))))
    }

    /// The opening handshake request (§4.1), with a `Sec-WebSocket-Protocol` when the server
    /// needs one (Janus answers only `janus-protocol` connections).
    public static func handshakeRequest(host: String, path: String, key: String, subprotocol: String? = nil) -> String {
        "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
            + (subprotocol.map { "Sec-WebSocket-Protocol: \($0)\r\n" } ?? "") + "\r\n"
    }

    /// Consumes what it can of `buffer` (a partial frame stays in it for the next call).
    public mutating func feed(_ buffer: inout ByteBuffer) throws(Failure) -> [Event] {
        var events: [Event] = []
        if case .awaitingResponse = state {
            guard try readHandshake(&buffer) else { return events }
            events.append(.upgraded)
        }
        while case .open = state, let event = try readFrame(&buffer) {
            if let event { events.append(event) }
        }
        return events
    }

    /// Appends one masked frame (clients must mask, §5.3) to `out`.
    public static func writeFrame(
        _ opcode: Opcode, payload: some Collection<UInt8>, mask: (UInt8, UInt8, UInt8, UInt8), into out: inout ByteBuffer
    ) {
        out.writeInteger(0x80 | opcode.rawValue)
        let count = payload.count
        if count < 126 {
            out.writeInteger(UInt8(0x80 | count))
        } else if count <= 0xFFFF {
            out.writeInteger(UInt8(0x80 | 126))
            out.writeInteger(UInt16(count))
        } else {
            out.writeInteger(UInt8(0x80 | 127))
            out.writeInteger(UInt64(count))
        }
        let key = [mask.0, mask.1, mask.2, mask.3]
        out.writeBytes(key)
        var index = 0
        for byte in payload {
            out.writeInteger(byte ^ key[index & 3])
            index &+= 1
        }
    }

    // MARK: - Private

    /// Reads the HTTP response head; true once it has been read and accepted.
    private mutating func readHandshake(_ buffer: inout ByteBuffer) throws(Failure) -> Bool {
        let view = buffer.readableBytesView
        let terminator: [UInt8] = [13, 10, 13, 10]
        guard let end = view.firstRange(of: terminator) else {
            if view.count > Self.maximumHandshakeBytes { throw .handshakeTooLarge }
            return false
        }
        let headLength = end.upperBound - view.startIndex
        guard headLength <= Self.maximumHandshakeBytes, let head = buffer.readString(length: headLength) else { throw .handshakeTooLarge }
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: true)
        let status = lines.first.map(String.init) ?? ""
        let parts = status.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[1] == "101" else { throw .handshakeRejected(status) }
        var accept: Substring?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == "sec-websocket-accept" {
                accept = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            }
        }
        guard let accept, accept.trimmingSuffixSpaces == expectedAccept else { throw .handshakeRejected("bad Sec-WebSocket-Accept") }
        state = .open
        return true
    }

    /// Reads one frame: nil when incomplete; `.some(nil)` for a frame that yields no event yet
    /// (a fragment, a pong).
    private mutating func readFrame(_ buffer: inout ByteBuffer) throws(Failure) -> Event?? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self), let second = buffer.getInteger(at: start + 1, as: UInt8.self) else {
            return nil
        }
        guard first & 0x70 == 0 else { throw .protocolViolation("reserved bits set") }
        guard let opcode = Opcode(rawValue: first & 0x0F) else { throw .protocolViolation("opcode \(first & 0x0F)") }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        var offset = start + 2
        var length: Int
        switch second & 0x7F {
        case 126:
            guard let value = buffer.getInteger(at: offset, as: UInt16.self) else { return nil }
            length = Int(value)
            offset += 2
        case 127:
            guard let value = buffer.getInteger(at: offset, as: UInt64.self) else { return nil }
            guard let exact = Int(exactly: value), exact <= maximumMessageSize else { throw .messageTooLarge }
            length = exact
            offset += 8
        default:
            length = Int(second & 0x7F)
        }
        guard length <= maximumMessageSize else { throw .messageTooLarge }
        var maskKey: [UInt8]?
        if masked {
            guard let key = buffer.getBytes(at: offset, length: 4) else { return nil }
            maskKey = key
            offset += 4
        }
        guard var payload = buffer.getSlice(at: offset, length: length) else { return nil }
        buffer.moveReaderIndex(to: offset + length)
        if let maskKey {
            // Servers must not mask (§5.1), but unmasking costs nothing and keeps us lenient.
            payload = ByteBuffer(bytes: payload.readableBytesView.enumerated().map { $0.element ^ maskKey[$0.offset & 3] })
        }
        switch opcode {
        case .ping, .pong, .close:
            guard fin, length <= 125 else { throw .protocolViolation("fragmented or long control frame") }
            if opcode == .ping { return .some(.ping(payload)) }
            if opcode == .close {
                state = .closed
                return .some(.close)
            }
            return .some(nil)
        case .text, .binary:
            guard fragmentOpcode == nil else { throw .protocolViolation("new message inside a fragmented one") }
            if fin { return .some(try message(opcode, payload)) }
            fragmentOpcode = opcode
            fragments = payload
            return .some(nil)
        case .continuation:
            guard let kind = fragmentOpcode else { throw .protocolViolation("continuation without a message") }
            guard fragments.readableBytes + length <= maximumMessageSize else { throw .messageTooLarge }
            fragments.writeImmutableBuffer(payload)
            guard fin else { return .some(nil) }
            fragmentOpcode = nil
            let whole = fragments
            fragments = ByteBuffer()
            return .some(try message(kind, whole))
        }
    }

    private func message(_ opcode: Opcode, _ payload: ByteBuffer) throws(Failure) -> Event {
        if opcode == .binary { return .binary(payload) }
        guard let text = String(validating: payload.readableBytesView, as: UTF8.self) else { throw .protocolViolation("text frame is not UTF-8") }
        return .text(text)
    }
}

extension Substring {
    fileprivate var trimmingSuffixSpaces: String {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " || self[index(before: end)] == "\t" { end = index(before: end) }
        return String(self[startIndex..<end])
    }
}
