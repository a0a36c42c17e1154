import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP side of the FlyLive Laravel backend (contract §7.1): one client, the common headers,
/// and a hard timeout on every call (the reference aborts after 10 s).
public struct LaravelHTTP: Sendable {
    public let baseURL: String
    let internalKey: String
    let client: HTTPClient

    public init(baseURL: String, internalKey: String, client: HTTPClient = .shared) {
        self.baseURL = baseURL
        self.internalKey = internalKey
        self.client = client
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var isSuccess: Bool { (200..<300).contains(status) }
    }

    /// Sends one request. `bearer` defaults to the internal key (internal calls); the auth
    /// validation call passes the user's token instead (contract §2.3 c).
    public func send(
        _ method: HTTPMethod, _ path: String, json body: Data? = nil, bearer: String? = nil,
        timeout: TimeAmount = .seconds(10)
    ) async throws -> Response {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer \(bearer ?? internalKey)")
        request.headers.add(name: "X-Internal-Key", value: internalKey)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return Response(status: Int(response.status.code), body: Data(bytes.readableBytesView))
    }
}
