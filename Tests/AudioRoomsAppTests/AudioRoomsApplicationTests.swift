import AudioRooms
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The whole application as `msab serve` builds it (`MSABApplication.buildApplication`), run by
/// HummingbirdTesting's live framework on a free port of 127.0.0.1 and driven over HTTP: the
/// Engine.IO polling handshake, Socket.IO CONNECT with a token, `room:join`, `seat:take` with its
/// ack, `/health` and `/metrics`. Stand-alone mode (no Redis, no Laravel), a temporary data directory.
@Suite struct AudioRoomsApplicationTests {
    @Test func connectJoinTakeSeatHealthAndMetrics() async throws {
        let dataDirectory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let app = try await Self.application(in: dataDirectory, ["MSAB_PING_INTERVAL_MS": "5000"])
        let authority = try #require(app.parts.tokenAuthority)
        let token = try await authority.mint(userID: 7, profile: ["name": "Alice"], rooms: ["r1": .owner])

        try await app.test(.live) { client in
            var session = EngineIOPollingSession(client: client)
            // Engine.IO open, then Socket.IO CONNECT to the main namespace with the token.
            try await session.open()
            let connect = try await session.send(#"0{"token":"\#(token)"}"#, until: { $0.hasPrefix("0") || $0.hasPrefix("4") })
            #expect(connect.hasPrefix("0{") && connect.contains(#""sid""#), "CONNECT refused: \(connect)")

            // room:join (ack id 1): the router's capabilities and the room's state.
            let join = try await session.send(#"21["room:join",{"roomId":"r1"}]"#, until: { $0.hasPrefix("31[") })
            let joinAck = try session.ack(join, as: JoinAck.self)
            #expect(joinAck.error == nil)
            #expect(joinAck.rtpCapabilities?.codecs.contains { $0.mimeType.lowercased() == "audio/opus" } == true)
            #expect(joinAck.seats?.isEmpty == true)

            // seat:take (ack id 2) and, to see it held, taking the same seat again (ack id 3).
            let take = try await session.send(#"22["seat:take",{"roomId":"r1","seatIndex":0}]"#, until: { $0.hasPrefix("32[") })
            #expect(try session.ack(take, as: SeatAck.self) == SeatAck(success: true, error: nil))
            let again = try await session.send(#"23["seat:take",{"roomId":"r1","seatIndex":0}]"#, until: { $0.hasPrefix("33[") })
            #expect(try session.ack(again, as: SeatAck.self) == SeatAck(success: false, error: "Seat is already taken"))

            // /health: stand-alone, one worker, the room just made.
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let health = try JSONDecoder().decode(Health.self, from: Data(response.body.readableBytesView))
                #expect(health.status == "ok")
                #expect(health.redis == "disabled")
                #expect(health.rooms == 1)
            }
            // /metrics: Prometheus text, counting the handshake above.
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"msab_engineio_handshakes_total{result="accepted"}"#))
            }
        }
    }

    /// A shutdown that finished disarms the exit timer (cap + 5 s): a process that goes on after an
    /// application stopped, as this test process does, is not exited under its feet.
    @Test func aFinishedShutdownDoesNotExitTheProcessLater() async throws {
        let dataDirectory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let app = try await Self.application(in: dataDirectory, ["MSAB_SHUTDOWN_TIMEOUT_MS": "1"])
        try await app.test(.live) { client in
            try await client.execute(uri: "/health", method: .get) { response in #expect(response.status == .ok) }
        }
        // The timer would fire 5.001 s after the shutdown began, exiting this test process (1).
        try await Task.sleep(for: .milliseconds(5_600))
    }

    static func dataDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("msab-app-\(UUID().uuidString)")
    }

    /// The whole application, stand-alone, on 127.0.0.1 with free ports, one media worker, and
    /// `environment` on top.
    static func application(in dataDirectory: URL, _ environment: [String: String]) async throws -> AudioRoomsApplication {
        let rtcPorts = try FreePorts.range(count: 4)
        let configuration = try Configuration(
            environment: [
                "MSAB_HOST": "127.0.0.1", "PORT": "0", "MSAB_DATA_DIR": dataDirectory.path,
                "MEDIASOUP_LISTEN_IP": "127.0.0.1", "MEDIASOUP_NUM_WORKERS": "1",
                "MEDIASOUP_RTC_MIN_PORT": String(rtcPorts.lowerBound), "MEDIASOUP_RTC_MAX_PORT": String(rtcPorts.upperBound),
                "LOG_LEVEL": "warn",
            ].merging(environment) { $1 })
        var logger = Logger(label: "msab.test")
        logger.logLevel = .warning
        return try await MSABApplication.buildApplication(configuration: configuration, logger: logger)
    }
}

/// The parts of the acks and answers the test checks.
struct JoinAck: Decodable {
    struct Capabilities: Decodable {
        struct Codec: Decodable { var mimeType: String }
        var codecs: [Codec]
    }
    struct Seat: Decodable { var seatIndex: Int }
    var rtpCapabilities: Capabilities?
    var seats: [Seat]?
    var error: String?
}

struct SeatAck: Decodable, Equatable {
    var success: Bool
    var error: String?
}

struct Health: Decodable {
    var status: String
    var redis: String
    var rooms: Int
}

struct OpenPacket: Decodable { var sid: String }

/// One Engine.IO v4 session over HTTP long-polling (the transport needs no WebSocket client):
/// GET opens it and reads, POST writes. One connection, so every read follows the write it awaits.
struct EngineIOPollingSession {
    let client: any TestClientProtocol
    private var sid = ""

    init(client: any TestClientProtocol) { self.client = client }

    /// `GET /socket.io/?EIO=4&transport=polling`: the open packet `0{"sid":…}`.
    mutating func open() async throws {
        let packets = try await poll(uri: "/socket.io/?EIO=4&transport=polling")
        let open = try #require(packets.first)
        #expect(open.hasPrefix("0"))
        sid = try JSONDecoder().decode(OpenPacket.self, from: Data(open.utf8.dropFirst())).sid
    }

    /// POSTs a Socket.IO packet in an Engine.IO message packet (`4…`), then reads until a
    /// Socket.IO packet matches
    /// (at most a few polls; the server answers a poll as soon as it has something to send).
    func send(_ socketIOPacket: String, until matches: (String) -> Bool) async throws -> String {
        try await client.execute(
            uri: "/socket.io/?EIO=4&transport=polling&sid=\(sid)", method: .post,
            headers: [.contentType: "text/plain;charset=UTF-8"],
            body: ByteBuffer(string: "4" + socketIOPacket)
        ) { response in
            #expect(response.status == .ok)
        }
        for _ in 0..<5 {
            for packet in try await poll(uri: "/socket.io/?EIO=4&transport=polling&sid=\(sid)") {
                // Engine.IO message packets carry Socket.IO; pings ("2") are answered with pongs.
                if packet == "2" {
                    try await client.execute(
                        uri: "/socket.io/?EIO=4&transport=polling&sid=\(sid)", method: .post,
                        body: ByteBuffer(string: "3")
                    ) { _ in }
                } else if packet.hasPrefix("4"), matches(String(packet.dropFirst())) {
                    return String(packet.dropFirst())
                }
            }
        }
        Issue.record("no packet matched after \(socketIOPacket)")
        return ""
    }

    /// The first argument of a Socket.IO ACK packet `3<id>[payload]`.
    func ack<Payload: Decodable>(_ packet: String, as type: Payload.Type) throws -> Payload {
        let bracket = try #require(packet.firstIndex(of: "["))
        let arguments = try JSONDecoder().decode([Payload].self, from: Data(packet[bracket...].utf8))
        return try #require(arguments.first)
    }

    private func poll(uri: String) async throws -> [String] {
        try await client.execute(uri: uri, method: .get) { response in
            #expect(response.status == .ok)
            return String(buffer: response.body).split(separator: "\u{1e}").map(String.init)
        }
    }
}

/// `count` consecutive ports free for UDP and TCP on 127.0.0.1 (the media workers' range), probed
/// by binding them; another process may take one after the probe, which is rare enough for tests.
enum FreePorts {
    static func range(count: Int) throws -> ClosedRange<Int> {
        for _ in 0..<200 {
            let start = Int.random(in: 20_000...60_000 - count)
            if (start..<start + count).allSatisfy({ isFree($0, type: Int32(SOCK_DGRAM.rawValue)) && isFree($0, type: Int32(SOCK_STREAM.rawValue)) }) {
                return start...(start + count - 1)
            }
        }
        throw FreePortsError()
    }

    struct FreePortsError: Error {}

    private static func isFree(_ port: Int, type: Int32) -> Bool {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
