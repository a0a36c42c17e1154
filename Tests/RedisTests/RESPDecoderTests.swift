import NIOCore
import Testing

@testable import Redis

@Suite struct Placeholder {
    @Test func decodes() throws {
        var decoder = RESPDecoder()
        decoder.feed(ByteBuffer(string: "+OK\r\n"))
        #expect(try decoder.next() == .simpleString("OK"))
    }
}
