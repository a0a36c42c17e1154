public import EngineIO
import EngineIOParser
import Foundation
import HTTPTypes
public import Hummingbird
public import HummingbirdWebSocket
import Logging
import NIOCore

// The integration layer between Hummingbird 2 and the Engine.IO server (as hummingbird-websocket
// is for WSCore): long-polling requests become `EngineHTTPRequest`s, WebSocket upgrades become
// `EngineIOServer.runWebSocket` calls. Wiring, with several engines on one app:
//
//     let router = Router()
//     router.addEngineIO(socketIOEngine, path: "/socket.io")
//     router.addEngineIO(echoEngine, path: "/engine.io")
//     let app = Application(
//         router: router,
//         server: .http1WebSocketUpgrade(configuration: EngineIOUpgrade.configuration(maxPayload: 1_000_000),
//                                        shouldUpgrade: EngineIOUpgrade.shouldUpgrade([("/socket.io", socketIOEngine), ("/engine.io", echoEngine)])))

extension Router {
    /// Serves Engine.IO long-polling (GET/POST/OPTIONS) at `path` (with or without the trailing slash).
    public func addEngineIO(_ server: EngineIOServer, path: String) {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        let handler: @Sendable (Request, Context) async throws -> Response = { request, context in
            // The per-address session cap needs the peer's address: contexts that know it
            // (`EngineIORequestContext`, any `RemoteAddressRequestContext`) pass it on.
            let remote = (context as? any RemoteAddressRequestContext)?.remoteAddress.map(EngineIOUpgrade.describe)
            return await EngineIOUpgrade.respond(server, request, remoteAddress: remote)
        }
        // Hummingbird's router treats "/x" and "/x/" as one route.
        get(RouterPath(trimmed), use: handler)
        post(RouterPath(trimmed), use: handler)
        on(RouterPath(trimmed), method: .options, use: handler)
        // Other methods reach the engine too, which answers 400 "Bad handshake method" (not 404).
        for method in [HTTPRequest.Method.put, .delete, .patch, .head] { on(RouterPath(trimmed), method: method, use: handler) }
    }
}

public enum EngineIOUpgrade {
    /// hummingbird-websocket settings for Engine.IO: frames as large as maxPayload, and no
    /// WebSocket-level auto ping (Engine.IO has its own heartbeat).
    public static func configuration(maxPayload: Int) -> HTTP1WebSocketUpgradeChannel.Configuration {
        .init(ws: WebSocketServerConfiguration(maxFrameSize: max(maxPayload + 1024, 1 << 14), autoPing: .disabled))
    }

    /// The `shouldUpgrade` closure for `.http1WebSocketUpgrade`: upgrades Engine.IO WebSocket
    /// requests on the mounted paths. A refused one (bad query, unknown sid, a session cap) gets
    /// hummingbird-websocket's bare `400` (engine.io's `abortUpgrade` is a 400 too).
    public static func shouldUpgrade(_ mounts: [(path: String, server: EngineIOServer)])
        -> @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
            WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
        >
    {
        let table = mounts.map { (path: $0.path.hasSuffix("/") ? String($0.path.dropLast()) : $0.path, server: $0.server) }
        return { request, channel, _ in
            let (path, query) = splitTarget(request.path ?? "")
            let normalized = path.hasSuffix("/") ? String(path.dropLast()) : path
            let remote = channel.remoteAddress.map(describe)
            guard let mount = table.first(where: { $0.path == normalized }), mount.server.shouldUpgrade(query: query, remoteAddress: remote) else {
                return .dontUpgrade
            }
            let headers = withHost(request.headerFields.map { (name: $0.name.canonicalName, value: $0.value) }, request.authority)
            let server = mount.server
            return .upgrade([:]) { inbound, outbound, _ in
                let frames = inbound.messages(maxSize: server.configuration.maxPayload + 1).map { message -> EngineIOCodec.Frame in
                    switch message {
                    case .text(let text): .text(text)
                    case .binary(let bytes): .binary(bytes)
                    }
                }
                // Frames go straight into the upgraded channel (the NIOAsyncChannel's handler
                // passes outbound writes through to the frame encoder); `outbound` is left to
                // hummingbird-websocket for the close handshake.
                _ = outbound
                await server.runWebSocket(
                    query: query, headers: headers, remoteAddress: remote, frames: frames, sink: WebSocketChannelSink(channel: channel))
            }
        }
    }

    /// "ip:port", the form `EngineHandshake.remoteAddress` has.
    static func describe(_ address: SocketAddress) -> String { "\(address.ipAddress ?? "?"):\(address.port ?? 0)" }

    static func respond(_ server: EngineIOServer, _ request: Request, remoteAddress: String?) async -> Response {
        let method: EngineHTTPRequest.Method
        switch request.method {
        case .get: method = .get
        case .post: method = .post
        case .options: method = .options
        default: method = .other
        }
        let query = parseQuery(request.uri.query ?? "")
        var body: ByteBuffer?
        if method == .post {
            do {
                body = try await request.body.collect(upTo: server.configuration.maxPayload)
            } catch {
                // Larger than maxPayload: engine.io answers 413 and drops the session.
                var oversized = ByteBuffer()
                oversized.writeRepeatingByte(0, count: server.configuration.maxPayload + 1)
                body = oversized
            }
        }
        let headers = withHost(request.headers.map { (name: $0.name.canonicalName, value: $0.value) }, request.head.authority)
        let engineRequest = EngineHTTPRequest(method: method, query: query, headers: headers, body: body, remoteAddress: remoteAddress)
        let answer = await server.handleHTTP(engineRequest)
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: answer.body))
    }

    static func splitTarget(_ target: String) -> (path: String, query: [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, [:]) }
        return (String(target[..<mark]), parseQuery(String(target[target.index(after: mark)...])))
    }

    static func parseQuery(_ query: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[1])) : ""
            if out[key] == nil { out[key] = value }
        }
        return out
    }
}

/// A request context that knows the peer's address, so long-polling handshakes count against
/// `maxSessionsPerAddress` (Hummingbird's `BasicRequestContext` drops the channel's address).
public struct EngineIORequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// HTTP/1.1's Host arrives as the request's authority, not among its header fields; the
/// handshake's headers carry it as `host`, as Node's do (`socket.handshake.headers.host`).
func withHost(_ headers: [(name: String, value: String)], _ authority: String?) -> [(name: String, value: String)] {
    guard let authority, !headers.contains(where: { $0.name.lowercased() == "host" }) else { return headers }
    return [("host", authority)] + headers
}
