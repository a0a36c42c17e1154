import Crypto
import EngineIOHummingbird
import Foundation
import Hummingbird
import NIOCore
import Redis

/// `POST /internal/events`: the backend pushes an event to users/rooms (contract §7.2's message,
/// over HTTP; design.md §3). Authenticated by `X-Internal-Key`; answers 202 `{delivered}`, 400
/// `{error}` for a malformed message, 401 for a wrong or missing key. An empty key never
/// authenticates, whatever the configured key is (an empty key file must not open a relay to every user).
enum InternalEventsRoute {
    /// In a cluster the message is published to every node (each delivers to its own sockets),
    /// and the answer is 202 `{published: true, nodes}`.
    static func add(to router: Router<EngineIORequestContext>, internalKey: String, relay: BackendEventRelay, cluster: ClusterParts? = nil) {
        let expected = Data(internalKey.utf8)
        router.post("/internal/events") { request, context -> Response in
            let presented = Data((request.headers[.init("X-Internal-Key")!] ?? "").utf8)
            // Compare digests so the comparison time does not depend on where the keys differ.
            guard !expected.isEmpty, !presented.isEmpty, SHA256.hash(data: presented) == SHA256.hash(data: expected) else {
                return json(.unauthorized, #"{"error":"Invalid internal key"}"#)
            }
            let body = try await request.body.collect(upTo: 1_000_000)
            switch BackendEventRelay.parse(Data(body.readableBytesView)) {
            case .failure(let rejection):
                return json(.badRequest, #"{"error":"\#(rejection.rawValue)"}"#)
            case .success(let message):
                if let cluster {
                    do {
                        let nodes = try await cluster.redis.send(["PUBLISH", .string(ClusterNode.internalEventsChannel), .bytes(body)])
                        return json(.accepted, #"{"published":true,"nodes":\#(nodes.int ?? 0)}"#)
                    } catch {
                        return json(.serviceUnavailable, #"{"error":"Redis unavailable"}"#)
                    }
                }
                let delivered = await relay.deliver(message)
                return json(.accepted, #"{"delivered":\#(delivered)}"#)
            }
        }
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
