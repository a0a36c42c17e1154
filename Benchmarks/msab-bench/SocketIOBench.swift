import EngineIO
import Foundation
import NIOCore
import SocketIO
import SocketIOParser
import Synchronization

func socketIOCodecBenchmarks() {
    let payload: JSONValue = ["userId": 42, "volume": -23, "timestamp": 1_764_000_000_000, "activeSpeakers": [42, 7, 9]]
    let packet = SocketIOPacket(type: .event, data: .array(["speaker:active", payload]))
    var sink = 0
    let encode = measure(200_000) { sink &+= SocketIOCodec.encode(packet).text.utf8.count }
    let text = SocketIOCodec.encode(packet).text
    let decode = measure(200_000) { sink &+= (try? SocketIOCodec.decode(text))?.attachments ?? 0 }
    let big = SocketIOCodec.encode(
        SocketIOPacket(
            type: .event, data: .array(["room:join", .object(JSONObject((0..<40).map { ("key\($0)", .string(String(repeating: "v", count: 20))) }))]))
    ).text
    let decodeBig = measure(50_000) { sink &+= (try? SocketIOCodec.decode(big))?.attachments ?? 0 }
    print("socket.io encode  (speaker:active event, \(text.utf8.count) B): \(format(encode)) per packet, \(Int(1 / encode)) packets/s")
    print("socket.io decode  (speaker:active event, \(text.utf8.count) B): \(format(decode)) per packet, \(Int(1 / decode)) packets/s")
    print("socket.io decode  (40-key object, \(big.utf8.count) B): \(format(decodeBig)) per packet, \(Int(1 / decodeBig)) packets/s")
    if sink == 42 { print("") }
}

/// An engine session that only counts what it is sent (the broadcast benchmark's 10,000 sockets).
final class CountingConnection: EngineConnection, @unchecked Sendable {
    let id = UUID().uuidString
    let handshake = EngineHandshake(headers: [], query: [:], remoteAddress: nil, issuedAtMs: 0)
    let inbound: AsyncStream<EngineMessage>
    let input: AsyncStream<EngineMessage>.Continuation
    let received = Mutex(0)

    init() { (inbound, input) = AsyncStream.makeStream(of: EngineMessage.self) }

    func send(_ message: EngineMessage) { received.withLock { $0 += 1 } }
    func send(contentsOf messages: [EngineMessage]) { received.withLock { $0 += messages.count } }
    func close() { input.finish() }
    func closed() async -> EngineCloseReason { .serverClose }
}

func socketIOBroadcastBenchmark(sockets count: Int) async {
    let (connections, feed) = AsyncStream.makeStream(of: (any EngineConnection).self)
    let io = SocketIOServer(configuration: .init(connectTimeout: .seconds(60)), connections: connections)
    let joined = Mutex(0)
    io.main.onConnection { socket in
        socket.join("bench")
        joined.withLock { $0 += 1 }
    }
    let server = Task { try await io.run() }
    var all: [CountingConnection] = []
    for _ in 0..<count {
        let connection = CountingConnection()
        all.append(connection)
        feed.yield(connection)
        connection.input.yield(.text("0"))
    }
    while joined.withLock({ $0 }) < count { try? await Task.sleep(for: .milliseconds(10)) }
    for connection in all { connection.received.withLock { $0 = 0 } }
    let rounds = 20
    let start = DispatchTime.now().uptimeNanoseconds
    for round in 0..<rounds {
        io.main.to("bench").emit("speaker:active", ["userId": .number(Double(round)), "volume": -20, "timestamp": 1_764_000_000_000])
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(rounds)
    let delivered = all.reduce(0) { $0 + $1.received.withLock { $0 } }
    print(
        "socket.io broadcast to \(count) sockets in a room (in memory): \(format(elapsed)) per event (\(format(elapsed / Double(count))) per recipient; \(delivered) deliveries)"
    )
    for connection in all { connection.close() }
    feed.finish()
    server.cancel()
}
