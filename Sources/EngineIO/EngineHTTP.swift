public import NIOCore

/// An HTTP request as the Engine.IO server needs it; the web framework adapter fills it in.
public struct EngineHTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST", options = "OPTIONS", other }
    public var method: Method
    public var query: [String: String]
    public var headers: [(name: String, value: String)]
    public var body: ByteBuffer?
    public var remoteAddress: String?

    public init(method: Method, query: [String: String], headers: [(name: String, value: String)], body: ByteBuffer?, remoteAddress: String?) {
        self.method = method
        self.query = query
        self.headers = headers.map { ($0.name.lowercased(), $0.value) }
        self.body = body
        self.remoteAddress = remoteAddress
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }
}

/// The answer, for the adapter to write.
public struct EngineHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: ByteBuffer

    public init(status: Int, headers: [(name: String, value: String)], body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=UTF-8") -> EngineHTTPResponse {
        EngineHTTPResponse(status: status, headers: [("Content-Type", contentType)], body: ByteBuffer(string: text))
    }

    public static func error(_ error: EngineRequestError) -> EngineHTTPResponse {
        .text(error.httpStatus, error.body, contentType: "application/json")
    }
}
