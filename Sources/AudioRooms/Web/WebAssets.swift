import EngineIOHummingbird
import Hummingbird
import NIOCore

/// The browser demo and its client library, compiled into the binary (issue 15): `/` is the room
/// page, `/msab-client.js` the ES module it is built on (Socket.IO v4 client + WebRTC handler),
/// `/demo.js` and `/demo.css` the page's own code. Embedded as string literals rather than
/// SwiftPM resources, so the binary alone serves them wherever it is copied (a missing
/// resource bundle would stop the server), and nothing needs a build step or npm.
public enum WebAssets {
    /// One embedded file.
    public struct Asset: Sendable {
        public var path: String
        public var contentType: String
        public var body: String
    }

    public static let assets: [Asset] = [
        Asset(path: "/", contentType: "text/html; charset=utf-8", body: demoHTML),
        Asset(path: "/msab-client.js", contentType: "text/javascript; charset=utf-8", body: clientJS),
        Asset(path: "/demo.js", contentType: "text/javascript; charset=utf-8", body: demoJS),
        Asset(path: "/demo.css", contentType: "text/css; charset=utf-8", body: demoCSS),
    ]

    /// Only this server's scripts run on the page; it connects back to this server alone
    /// (`'self'` covers ws/wss to the same host in current browsers; both are listed for older
    /// ones). Avatars are URLs from profiles, so images may come from anywhere.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; media-src 'self' blob:; connect-src 'self' ws: wss:; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

    /// Adds a GET route per asset.
    public static func addRoutes(to router: Router<EngineIORequestContext>) {
        for asset in assets {
            let body = ByteBuffer(string: asset.body)
            let headers: HTTPFields = [
                .contentType: asset.contentType,
                // Small files, served from memory: always revalidate, so a new msab's page is seen at once.
                .cacheControl: "no-cache",
                .init("Content-Security-Policy")!: contentSecurityPolicy,
                .init("X-Content-Type-Options")!: "nosniff",
                .init("Referrer-Policy")!: "no-referrer",
            ]
            router.get(RouterPath(asset.path)) { _, _ -> Response in
                Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
            }
        }
    }
}
