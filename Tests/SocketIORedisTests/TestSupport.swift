import MessagePack
import NIOCore
import SocketIOParser
import SocketIORedis
import Testing

/// Bytes from hex digits (spaces ignored).
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace }.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// The UTF-8 bytes of a string, for the quoted parts of the spec's dumps.
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

func buffer(_ value: MessagePackValue) -> ByteBuffer { value.encoded() }

func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }

func reason<T>(_ body: () throws(RedisAdapterError) -> T) -> RedisAdapterError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A deterministic generator for reproducible tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
