import DTLS
import Foundation
import LoadTest
import Testing

@Suite("AudioSessionDescription: the SDP subset the Janus target exchanges")
struct AudioSessionDescriptionTests {
    static let fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

    /// The shape of a Janus 1.1.2 VideoRoom subscriber offer (ICE-lite, half-trickle: candidates inline,
    /// extmaps, a second non-audio section that must not confuse the reader).
    static let janusOffer =
        [
            "v=0", "o=- 1733150000000000 1 IN IP4 10.231.7.2", "s=VideoRoom 1234", "t=0 0", "a=group:BUNDLE 0",
            "a=ice-options:trickle", "a=fingerprint:sha-256 \(fingerprint)", "a=ice-lite", "a=msid-semantic: WMS janus",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 10.231.7.2", "a=sendonly", "a=mid:0", "a=rtcp-mux",
            "a=ice-ufrag:Xy3a", "a=ice-pwd:abcdefghijklmnopqrstuv", "a=ice-options:trickle", "a=setup:actpass",
            "a=rtpmap:111 opus/48000/2", "a=fmtp:111 useinbandfec=1", "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
            "a=msid:janus janusa0", "a=ssrc:2290461537 cname:janus",
            "a=candidate:1 1 udp 2015363327 10.231.7.2 41234 typ host", "a=candidate:2 1 tcp 1015363327 10.231.7.2 9 typ host tcptype active",
            "a=candidate:3 1 udp 2015363583 fe80::1.local 40000 typ host", "a=end-of-candidates",
            "m=video 0 UDP/TLS/RTP/SAVPF 0", "a=inactive", "a=mid:1", "a=ice-ufrag:other",
        ].joined(separator: "\r\n") + "\r\n"

    @Test("a Janus offer: ICE-lite, session-level fingerprint, media-level credentials, UDP candidates only")
    func parsesJanusOffer() throws {
        let sdp = try AudioSessionDescription.parse(Self.janusOffer)
        #expect(sdp.iceLite)
        #expect(sdp.usernameFragment == "Xy3a")
        #expect(sdp.password == "abcdefghijklmnopqrstuv")
        #expect(sdp.fingerprints.map(\.algorithm) == [.sha256])
        #expect(sdp.fingerprints.first?.value == Self.fingerprint)
        #expect(sdp.setup == .actpass)
        #expect(sdp.mid == "0")
        #expect(sdp.direction == .sendonly)
        #expect(sdp.opusPayloadType == 111)
        #expect(sdp.ssrc == 2_290_461_537)
        #expect(sdp.candidates == [.init(address: "10.231.7.2", port: 41_234, priority: 2_015_363_327)])
    }

    @Test("render → parse keeps every field (the offer and answer the load test sends)")
    func roundTrip() throws {
        let fingerprint = try #require(DTLSFingerprint(algorithm: "sha-256", value: Self.fingerprint))
        let local = AudioSessionDescription(
            usernameFragment: "lt1x42", password: "0123456789abcdef01234567", fingerprints: [fingerprint], setup: .active, mid: "a1",
            direction: .recvonly, opusPayloadType: 109, candidates: [.init(address: "10.231.7.1", port: 50_000, priority: 2_130_706_431)],
            ssrc: 1234)
        let text = local.render()
        #expect(text.hasSuffix("\r\n") && !text.contains("\n\n"))
        #expect(text.contains("m=audio 50000 UDP/TLS/RTP/SAVPF 109\r\n"))
        #expect(try AudioSessionDescription.parse(text) == local)
    }

    @Test("what the leg cannot use is an error, not a guess")
    func rejects() {
        #expect(throws: AudioSessionDescription.ParseError.noAudioSection) { try AudioSessionDescription.parse("v=0\r\nm=video 9 RTP/AVP 96\r\n") }
        let noOpus = Self.janusOffer.replacingOccurrences(of: "a=rtpmap:111 opus/48000/2", with: "a=rtpmap:111 PCMU/8000")
        #expect(throws: AudioSessionDescription.ParseError.noOpus) { try AudioSessionDescription.parse(noOpus) }
        let noPassword = Self.janusOffer.replacingOccurrences(of: "a=ice-pwd:abcdefghijklmnopqrstuv\r\n", with: "")
        #expect(throws: AudioSessionDescription.ParseError.missing("a=ice-pwd")) { try AudioSessionDescription.parse(noPassword) }
        let noFingerprint = Self.janusOffer.replacingOccurrences(of: "a=fingerprint:sha-256", with: "a=fingerprint:md5")
        #expect(throws: AudioSessionDescription.ParseError.missing("a=fingerprint with a known hash")) {
            try AudioSessionDescription.parse(noFingerprint)
        }
        #expect(throws: AudioSessionDescription.ParseError.tooLarge) {
            try AudioSessionDescription.parse(String(repeating: "a=x\r\n", count: 20_000))
        }
    }

    @Test("hostile values are bounded: candidates capped, bad ports and priorities skipped")
    func bounded() throws {
        var lines = Self.janusOffer.split(separator: "\r\n").map(String.init)
        let at = try #require(lines.firstIndex(of: "a=end-of-candidates"))
        var extra = (0..<100).map { "a=candidate:9 1 udp \(1000 + $0) 10.0.0.\($0 % 250) \(1000 + $0) typ host" }
        extra += ["a=candidate:9 1 udp 5 10.0.0.1 70000 typ host", "a=candidate:9 1 udp 99999999999 10.0.0.1 7000 typ host"]
        lines.insert(contentsOf: extra, at: at)
        let sdp = try AudioSessionDescription.parse(lines.joined(separator: "\r\n"))
        #expect(sdp.candidates.count == AudioSessionDescription.maximumCandidates)
        #expect(sdp.candidates.allSatisfy { (1...65_535).contains($0.port) })
        #expect(sdp.candidates.first?.priority == 2_015_363_327)  // sorted, highest first
    }
}
