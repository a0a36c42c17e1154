import NIOCore
import STUN
import Testing

@Suite("TransportAddress")
struct TransportAddressTests {
    @Test("descriptions: dotted quad, RFC 5952 IPv6, mapped IPv4")
    func descriptions() {
        #expect(TransportAddress(ipv4: 127, 0, 0, 1, port: 5000).description == "127.0.0.1:5000")
        #expect(TransportAddress(ipv6High: 0, low: 1, port: 5000).description == "[::1]:5000")
        #expect(TransportAddress(ipv6High: 0, low: 0, port: 1).description == "[::]:1")
        #expect(TransportAddress(ipv6High: 0x2001_0db8_0000_0000, low: 0x0000_0000_0000_0001, port: 80).description == "[2001:db8::1]:80")
        // Longest run wins; the first one on a tie; a single zero group is not compressed.
        #expect(TransportAddress(ipv6High: 0x2001_0000_0001_0000, low: 0x0000_0000_0000_0001, port: 1).ipAddressDescription == "2001:0:1::1")
        #expect(TransportAddress(ipv6High: 0x2001_0db8_0000_0000, low: 0x0001_0000_0000_0001, port: 1).ipAddressDescription == "2001:db8::1:0:0:1")
        #expect(TransportAddress(ipv6High: 0x2001_0db8_0000_0001, low: 0x0001_0001_0001_0001, port: 1).ipAddressDescription == "2001:db8:0:1:1:1:1:1")
        #expect(TransportAddress(ipv6High: 0, low: 0x0000_FFFF_C000_0201, port: 9).description == "[::ffff:192.0.2.1]:9")
    }

    @Test("byte and value initialisers agree")
    func initialisers() {
        #expect(TransportAddress(addressBytes: [10, 1, 2, 3], port: 7) == TransportAddress(ipv4: 0x0A01_0203, port: 7))
        #expect(TransportAddress(addressBytes: [10, 1, 2], port: 7) == nil)
        let v6 = TransportAddress(addressBytes: Array(1...16), port: 7)
        #expect(v6?.addressBytes == Array(1...16))
        #expect(v6?.family == .ipv6)
        #expect(TransportAddress(ipv4: 1, 2, 3, 4, port: 0).ipv4 == 0x0102_0304)
        #expect(TransportAddress(ipv4: 1, 2, 3, 4, port: 0).ipv6 == nil)
        // Same bytes, different family or port: different keys.
        #expect(TransportAddress(ipv4: 0, port: 1) != TransportAddress(ipv6High: 0, low: 0, port: 1))
        #expect(TransportAddress(ipv4: 1, port: 1) != TransportAddress(ipv4: 1, port: 2))
        let set: Set = [TransportAddress(ipv4: 1, port: 1), TransportAddress(ipv4: 1, port: 1), TransportAddress(ipv4: 1, port: 2)]
        #expect(set.count == 2)
    }

    @Test("NIO SocketAddress conversion both ways")
    func socketAddress() throws {
        let v4 = try SocketAddress(ipAddress: "192.0.2.33", port: 40000)
        let address = try #require(TransportAddress(v4))
        #expect(address == TransportAddress(ipv4: 192, 0, 2, 33, port: 40000))
        #expect(address.socketAddress == v4)
        #expect(address.socketAddress.port == 40000)

        let v6 = try SocketAddress(ipAddress: "2001:db8::dead:beef", port: 3478)
        let address6 = try #require(TransportAddress(v6))
        #expect(address6.description == "[2001:db8::dead:beef]:3478")
        #expect(address6.socketAddress == v6)

        #expect(TransportAddress(try SocketAddress(unixDomainSocketPath: "/tmp/x")) == nil)
    }
}
