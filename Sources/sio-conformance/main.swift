// The server the official protocol test suites expect (socketio/socket.io docs/engine.io-protocol/
// v4-test-suite and docs/socket.io-protocol/v5-test-suite): on 127.0.0.1:3000, pingInterval 300,
// pingTimeout 200, maxPayload 1000000, connectTimeout 1000; a plain Engine.IO echo server at
// /engine.io/, and a Socket.IO server at /socket.io/ whose main and /custom namespaces emit "auth"
// with the handshake's auth on connect, echo "message" as "message-back" and ack
// "message-with-ack". Run by interop/run-official-suites.sh.
import EngineIO
import EngineIOHummingbird
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import SocketIO
import SocketIOParser
import UnixSignals

/// The plain Engine.IO echo server.
struct EchoService: Service {
    let engine: EngineIOServer

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for await connection in engine.connections.cancelOnGracefulShutdown() {
                group.addTask {
                    for await message in connection.inbound { connection.send(message) }
                }
            }
        }
    }
}

func install(_ namespace: Namespace) {
    namespace.onConnection { socket in
        socket.emit("auth", socket.handshake.auth ?? .object(JSONObject()))
        socket.on("message") { args, _ in socket.emit("message-back", args: args) }
        socket.on("message-with-ack") { args, ack in ack?.reply(args) }
    }
}

var port = 3000
if let index = CommandLine.arguments.firstIndex(of: "--port"), index + 1 < CommandLine.arguments.count,
    let value = Int(CommandLine.arguments[index + 1])
{
    port = value
}
var logger = Logger(label: "sio-conformance")
logger.logLevel = .warning
let configuration = EngineIOConfiguration(pingInterval: .milliseconds(300), pingTimeout: .milliseconds(200), maxPayload: 1_000_000)
let echoEngine = EngineIOServer(configuration: configuration, logger: logger)
let socketEngine = EngineIOServer(configuration: configuration, logger: logger)
let io = SocketIOServer(configuration: .init(connectTimeout: .milliseconds(1000)), connections: socketEngine.connections, logger: logger)
install(io.main)
install(io.of("/custom"))
let router = Router()
router.addEngineIO(echoEngine, path: "/engine.io")
router.addEngineIO(socketEngine, path: "/socket.io")
let app = Application(
    router: router,
    server: .http1WebSocketUpgrade(
        configuration: EngineIOUpgrade.configuration(maxPayload: 1_000_000),
        shouldUpgrade: EngineIOUpgrade.shouldUpgrade([("/engine.io", echoEngine), ("/socket.io", socketEngine)])),
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    logger: logger)
let group = ServiceGroup(
    configuration: .init(
        services: [echoEngine, socketEngine, io, EchoService(engine: echoEngine), app],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
try await group.run()
