import MediasoupWire
import SFU
import Testing

@testable import SFUServer

/// Issue 15 item 6: which addresses the host candidates carry.
struct HostCandidateAddressesTests {
    let machine = ["127.0.0.1", "192.0.2.2", "::1", "fd00::2", "fe80::fc:ff:fe00:1%eth0", "fe80::1", "10.8.0.5", "169.254.3.4", "192.0.2.2"]

    @Test func wildcardIPv4OffersEveryUsableIPv4AddressLoopbackLast() {
        #expect(
            HostCandidateAddresses.select(listenIP: "0.0.0.0", announcedIP: nil, interfaceAddresses: machine)
                == ["192.0.2.2", "10.8.0.5", "127.0.0.1"])
    }

    @Test func wildcardIPv6AddsRoutableIPv6BeforeLoopback() {
        #expect(
            HostCandidateAddresses.select(listenIP: "::", announcedIP: nil, interfaceAddresses: machine)
                == ["192.0.2.2", "10.8.0.5", "fd00::2", "127.0.0.1", "::1"])
    }

    @Test func announcedIPOverridesAndSpecificListenIPStaysAlone() {
        #expect(HostCandidateAddresses.select(listenIP: "0.0.0.0", announcedIP: "203.0.113.7", interfaceAddresses: machine) == ["203.0.113.7"])
        #expect(
            HostCandidateAddresses.select(listenIP: "0.0.0.0", announcedIP: "", interfaceAddresses: machine) == [
                "192.0.2.2", "10.8.0.5", "127.0.0.1",
            ])
        #expect(HostCandidateAddresses.select(listenIP: "10.1.2.3", announcedIP: nil, interfaceAddresses: machine) == ["10.1.2.3"])
    }

    @Test func nothingUsableFallsBackToLoopback() {
        #expect(HostCandidateAddresses.select(listenIP: "0.0.0.0", announcedIP: nil, interfaceAddresses: []) == ["127.0.0.1"])
        #expect(HostCandidateAddresses.select(listenIP: "::", announcedIP: nil, interfaceAddresses: ["fe80::1", "garbage"]) == ["::1"])
        // Only loopback on the machine: still 127.0.0.1 (and 127.0.0.1 before other loopback addresses).
        #expect(
            HostCandidateAddresses.select(listenIP: "0.0.0.0", announcedIP: nil, interfaceAddresses: ["127.0.1.1", "127.0.0.1"]) == [
                "127.0.0.1", "127.0.1.1",
            ])
    }

    @Test func countIsBounded() {
        let many = (1...40).map { "10.0.0.\($0)" }
        let picked = HostCandidateAddresses.select(listenIP: "0.0.0.0", announcedIP: nil, interfaceAddresses: many + ["127.0.0.1"])
        #expect(picked.count == HostCandidateAddresses.maximumCount)
        #expect(picked.first == "10.0.0.1")
    }

    @Test func candidatesKeepMediasoupsFirstPriorityAndDescend() {
        let candidates = Router.hostCandidates(addresses: ["192.0.2.2", "127.0.0.1"], port: 40_000)
        #expect(candidates.map(\.address) == ["192.0.2.2", "127.0.0.1"])
        #expect(candidates[0].priority == 1_076_302_079)  // mediasoup's first UDP host candidate
        #expect(candidates[1].priority < candidates[0].priority)
        #expect(candidates.map(\.foundation) == ["udpcandidate", "udpcandidate1"])
        #expect(candidates.allSatisfy { $0.port == 40_000 && $0.protocol == .udp && $0.type == .host })
    }
}
