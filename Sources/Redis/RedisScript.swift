import Crypto

/// A Lua script run with `RedisClient.eval`: EVALSHA by its SHA-1, EVAL only when the server has not
/// seen it yet (after a restart or `SCRIPT FLUSH`), which also loads it for the next EVALSHA.
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lower-case hex SHA-1 of the source, as Redis names scripts.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        let digest = Insecure.SHA1.hash(data: Array(source.utf8))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(40)
        for byte in digest {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        self.sha1 = String(decoding: text, as: UTF8.self)
    }
}
