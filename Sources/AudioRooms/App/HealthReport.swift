import Foundation

/// The body of `GET /health` (contract §8.1), with `redis: "disabled"` in stand-alone mode.
public struct HealthReport: Encodable, Sendable {
    public struct Workers: Encodable, Sendable {
        public var count: Int
        public var healthy: Bool
    }

    public struct Build: Encodable, Sendable {
        public var commit: String
        public var branch: String
        public var message: String
    }

    public var status: String
    public var uptime: Double
    public var redis: String
    public var workers: Workers
    public var rooms: Int
    public var timestamp: String
    public var build: Build

    /// 503 when degraded, as the reference does.
    public var httpStatus: Int { status == "ok" ? 200 : 503 }

    /// `./version.json` (or `./src/version.json`) when a deployment wrote one, else "unknown".
    public static func loadBuild() -> Build {
        for path in ["version.json", "src/version.json"] {
            if let data = FileManager.default.contents(atPath: path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                return Build(
                    commit: object["commit"] as? String ?? "unknown",
                    branch: object["branch"] as? String ?? "unknown",
                    message: object["message"] as? String ?? "unknown")
            }
        }
        return Build(commit: "unknown", branch: "unknown", message: "unknown")
    }

    public static func isoTimestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
