import NIOCore
import Testing

@testable import SFU

/// RFC 4571 §2 framing: a 2-byte big-endian length before each packet.
@Suite struct RFC4571FramerTests {
    static func framed(_ packets: [[UInt8]]) -> [UInt8] {
        var out = ByteBuffer()
        for packet in packets {
            let ok = packet.withUnsafeBytes { RFC4571Framer.frame($0, into: &out) }
            #expect(ok)
        }
        return Array(out.readableBytesView)
    }

    static let packets: [[UInt8]] = [[0x00, 0x01, 0x02], Array(repeating: 0xAB, count: 1_200), [0x80], Array(0..<255)]

    /// Feeds `bytes` in reads split at `cuts` and collects every frame.
    static func frames(_ bytes: [UInt8], chunk: Int) throws -> [[UInt8]] {
        var framer = RFC4571Framer()
        var out: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            var read = ByteBuffer(bytes: bytes[index..<min(bytes.count, index + chunk)])
            index += chunk
            framer.append(&read)
            #expect(read.readableBytes == 0)
            while let frame = try framer.nextFrame() { out.append(Array(frame.readableBytesView)) }
        }
        #expect(framer.bufferedBytes == 0)
        return out
    }

    @Test(arguments: [1, 2, 3, 5, 7, 64, 1_201, 1_203, 100_000])
    func splitReadsAnywhereYieldTheSamePackets(chunk: Int) throws {
        #expect(try Self.frames(Self.framed(Self.packets), chunk: chunk) == Self.packets)
    }

    @Test func aPartialFrameWaitsForTheRest() throws {
        var framer = RFC4571Framer()
        var head = ByteBuffer(bytes: [0x00, 0x03, 0x01])
        framer.append(&head)
        let none = try framer.nextFrame()
        #expect(none == nil)
        #expect(framer.bufferedBytes == 3)
        var tail = ByteBuffer(bytes: [0x02, 0x03, 0x00])
        framer.append(&tail)
        let first = try framer.nextFrame().map { Array($0.readableBytesView) }
        #expect(first == [1, 2, 3])
        let partial = try framer.nextFrame()
        #expect(partial == nil)  // one byte of the next length only
        #expect(framer.bufferedBytes == 1)
    }

    @Test func zeroLengthIsRefused() {
        var framer = RFC4571Framer()
        var bytes = ByteBuffer(bytes: [0x00, 0x00, 0x01])
        framer.append(&bytes)
        #expect(throws: RFC4571Framer.FramingError.zeroLength) { _ = try framer.nextFrame() }
    }

    @Test func oversizedLengthIsRefusedBeforeItsBytesArrive() throws {
        var framer = RFC4571Framer()
        // "GE" of an HTTP request reads as a length of 18,245.
        var bytes = ByteBuffer(string: "GET / HTTP/1.1\r\n")
        framer.append(&bytes)
        #expect(throws: RFC4571Framer.FramingError.oversized(0x4745)) { _ = try framer.nextFrame() }
        var atBound = RFC4571Framer(maximumFrameLength: 100)
        var ok = ByteBuffer(bytes: [0x00, 100] + Array(repeating: 1, count: 100) + [0x00, 101])
        atBound.append(&ok)
        let full = try? atBound.nextFrame()
        #expect(full?.readableBytes == 100)
        #expect(throws: RFC4571Framer.FramingError.oversized(101)) { _ = try atBound.nextFrame() }
    }

    @Test func framingRefusesSizesItCannotCarry() {
        var out = ByteBuffer()
        let empty = [UInt8]().withUnsafeBytes { RFC4571Framer.frame($0, into: &out) }
        let huge = Array(repeating: UInt8(0), count: 65_536).withUnsafeBytes { RFC4571Framer.frame($0, into: &out) }
        #expect(!empty && !huge)
        #expect(out.readableBytes == 0)
    }
}
