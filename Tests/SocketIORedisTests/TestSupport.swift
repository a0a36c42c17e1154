import MessagePack
import NIOCore
import SocketIOParser
import SocketIORedis
import Testing

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
