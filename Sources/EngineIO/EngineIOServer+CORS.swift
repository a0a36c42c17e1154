import NIOCore
import Synchronization

// CORS for the long-polling answers: the Origin is echoed when it is allowed (or same-origin).
extension EngineIOServer {
    func corsHeaders(_ request: EngineHTTPRequest) -> [(name: String, value: String)] {
        guard let origin = request.header("origin") else { return [] }
        if let allowed = configuration.allowedOrigins, !allowed.contains(origin), !allowed.contains("*"),
            !SameOrigin.matches(origin: origin, host: request.header("host"))
        {
            return []
        }
        return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
    }
}
