import DTLS
import MediasoupWire
import NIOCore
import RTP
import SRTP
import STUN
import Foundation

/// A WebRTC transport (mediasoup's WebRtcTransport): ICE-lite credentials and the selected tuple,
/// a DTLS endpoint whose role comes from the client's `dtlsParameters`, and the SRTP sessions
/// keyed by the handshake. Event-loop confined.
public final class WebRTCTransport {
    public let id: String
    unowned let router: Router
    var localUfrag: String
    var localPassword: String
    var localPasswordBytes: [UInt8]
    /// Tuples that passed a connectivity check, and the one media goes to.
    var tuples: Set<TransportAddress> = []
    var selected: (tuple: TransportAddress, address: SocketAddress)?
    var lastConsentMs: UInt64 = 0
    var dtls: DTLSEndpoint?
    var remoteFingerprint: DtlsFingerprint?
    var connectRequested = false
    var srtpIn: SRTPSession?
    var srtpOut: SRTPSession?
    var producers: [Producer] = []
    var producersBySSRC: [UInt32: Producer] = [:]
    var consumers: [Consumer] = []
    var midCounter = 0
    var closed = false
    /// mediasoup closes a transport whose ICE consent is gone; we wait this long without a check.
    static let consentTimeoutMs: UInt64 = 30_000

    init(router: Router) {
        self.id = UUID().uuidString.lowercased()
        self.router = router
        localUfrag = Self.randomICEString(16)
        localPassword = Self.randomICEString(32)
        localPasswordBytes = Array(localPassword.utf8)
    }

    /// RFC 8445 ice-chars: ALPHA / DIGIT / "+" / "/".
    static func randomICEString(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }

    var iceParameters: IceParameters { IceParameters(usernameFragment: localUfrag, password: localPassword, iceLite: true) }

    var info: WebRtcTransportInfo {
        let fingerprint = router.worker.certificate.fingerprint("sha-256") ?? ""
        return WebRtcTransportInfo(
            id: id, iceParameters: iceParameters,
            iceCandidates: [IceCandidate(foundation: "udpcandidate", priority: 1_076_302_079, address: router.worker.announcedAddress,
                                         protocol: "udp", port: router.worker.port)],
            dtlsParameters: DtlsParameters(role: .auto, fingerprints: [DtlsFingerprint(algorithm: "sha-256", value: fingerprint)]))
    }

    var isConnected: Bool { srtpOut != nil && selected != nil }

    func nextMid() -> String {
        defer { midCounter += 1 }
        return String(midCounter)
    }

    // MARK: - signalling

    func connect(_ parameters: DtlsParameters) throws(SFUError) {
        guard !connectRequested else { throw SFUError(.alreadyConnected) }
        guard let fingerprint = parameters.fingerprints.first(where: { DTLSCertificate.isSupported($0.algorithm) }) else {
            throw SFUError(.badDtlsParameters, "no supported fingerprint algorithm")
        }
        // The client's role decides ours (mediasoup: remote "auto" makes us the client... we take the
        // server side for "auto", as a lite agent that waits for the browser's ClientHello).
        let ourRole: DTLSEndpoint.Role = parameters.role == .server ? .client : .server
        if let existing = dtls, existing.role != ourRole { throw SFUError(.badDtlsParameters, "role conflicts with the handshake in progress") }
        connectRequested = true
        remoteFingerprint = fingerprint
        if dtls == nil { dtls = DTLSEndpoint(role: ourRole, certificate: router.worker.certificate) }
        dtls?.setRemoteFingerprint(algorithm: fingerprint.algorithm, value: fingerprint.value)
        if ourRole == .client, selected != nil { dtls?.start() }
        pumpDTLS()
    }

    func restartIce() throws(SFUError) -> IceParameters {
        let old = localUfrag
        localUfrag = Self.randomICEString(16)
        localPassword = Self.randomICEString(32)
        localPasswordBytes = Array(localPassword.utf8)
        router.worker.renameUfrag(self, from: old)
        return iceParameters
    }

    func add(_ producer: Producer) {
        producers.append(producer)
        if let ssrc = producer.mapping.ssrc { producersBySSRC[ssrc] = producer }
    }

    func remove(_ producer: Producer) {
        producers.removeAll { $0 === producer }
        for (ssrc, p) in producersBySSRC where p === producer { producersBySSRC[ssrc] = nil }
    }

    func add(_ consumer: Consumer) { consumers.append(consumer) }
    func remove(_ consumer: Consumer) { consumers.removeAll { $0 === consumer } }

    func close(reason: String, notify: Bool) {
        guard !closed else { return }
        closed = true
        dtls?.close()
        pumpDTLS()
        router.transportClosed(self, reason: reason, notify: notify)
    }

    // MARK: - ICE

    func validCheck(tuple: TransportAddress, address: SocketAddress, nominated: Bool, now: UInt64) {
        lastConsentMs = now
        tuples.insert(tuple)
        if selected == nil || nominated && selected?.tuple != tuple {
            selected = (tuple, address)
            if let dtls, dtls.role == .client, case .new = dtls.state { dtls.start(); pumpDTLS() }
        }
    }

    // MARK: - DTLS

    func receivedDTLS(_ bytes: UnsafeRawBufferPointer, from address: SocketAddress) {
        if dtls == nil {
            // pymediasoup's connect is fire-and-forget: a ClientHello may beat transport:connect.
            // A client that sends DTLS first is the DTLS client, so we are the server.
            dtls = DTLSEndpoint(role: .server, certificate: router.worker.certificate)
        }
        dtls?.handleDatagram(bytes)
        pumpDTLS()
    }

    /// Sends what DTLS wants to send and reacts to state changes.
    func pumpDTLS() {
        guard let dtls else { return }
        while let datagram = dtls.pollDatagram() {
            guard let destination = selected?.address else { break }
            datagram.withUnsafeReadableBytes { router.worker.sink.send($0, to: destination) }
            router.worker.packetsOut += 1
        }
        switch dtls.state {
        case .connected(let keys) where srtpIn == nil:
            let profile: SRTPSession.Profile
            switch keys.profile {
            case .aeadAES256GCM: profile = .aeadAES256GCM
            case .aeadAES128GCM: profile = .aeadAES128GCM
            case .aes128CMSHA1_80: profile = .aes128CMSHA1_80
            case .aes128CMSHA1_32: profile = .aes128CMSHA1_32
            }
            srtpIn = try? SRTPSession(profile: profile, direction: .inbound, keyAndSalt: keys.remoteKeyAndSalt)
            srtpOut = try? SRTPSession(profile: profile, direction: .outbound, keyAndSalt: keys.localKeyAndSalt)
        case .failed(let reason):
            close(reason: "dtls failed: \(reason)", notify: true)
        case .closed where !closed:
            close(reason: "dtls closed", notify: true)
        default:
            break
        }
    }

    // MARK: - media

    /// An SRTP packet from the peer: unprotect in place, find the producer, hand it to the router.
    func receivedRTP(_ bytes: UnsafeMutableRawBufferPointer, now: UInt64) {
        let worker = router.worker
        guard let srtpIn else { return worker.drop(.dtlsNotConnected) }
        guard let base = bytes.baseAddress else { return worker.drop(.rtpMalformed) }
        let length: Int
        do { length = try srtpIn.unprotectRTP(base, length: bytes.count) } catch { return worker.drop(.srtpUnprotectFailed) }
        guard let view = RTPPacketView(base, length: length) else { return worker.drop(.rtpMalformed) }
        var producer = producersBySSRC[view.ssrc]
        if producer == nil, let unknown = producers.first(where: { $0.mapping.ssrc == nil && $0.learntSSRC == nil }) {
            // The client announced no SSRC: the first unknown stream is the producer's.
            unknown.learntSSRC = view.ssrc
            producersBySSRC[view.ssrc] = unknown
            producer = unknown
        }
        guard let producer else { return worker.drop(.unknownSSRC) }
        guard !producer.paused else { return worker.drop(.producerPaused) }
        guard producer.receive(view, now: now) else { return worker.drop(.unknownPayloadType) }
        router.observer.level(producer.id, dBov: producer.lastLevel)
        router.forward(producer, packet: base, length: length)
    }

    func receivedRTCP(_ bytes: UnsafeMutableRawBufferPointer) {
        // RTCP is authenticated and counted; receiver/sender reports are not generated yet.
        guard let srtpIn, let base = bytes.baseAddress else { return router.worker.drop(.dtlsNotConnected) }
        do { _ = try srtpIn.unprotectRTCP(base, length: bytes.count) } catch { return router.worker.drop(.srtpUnprotectFailed) }
    }

    /// Sends an RTP packet that is already rewritten in `scratch`: protect, then out.
    @inline(__always)
    func sendRTP(_ scratch: UnsafeMutableRawPointer, length: Int) {
        guard let srtpOut, let destination = selected?.address else { return }
        let worker = router.worker
        let protected: Int
        do { protected = try srtpOut.protectRTP(scratch, length: length) } catch { return worker.drop(.srtpProtectFailed) }
        worker.sink.send(UnsafeRawBufferPointer(start: scratch, count: protected), to: destination)
        worker.packetsOut += 1
    }

    // MARK: - time

    func tick(now: UInt64) {
        if let dtls, let ms = dtls.pollTimeoutMs(), ms == 0 {
            dtls.handleTimeout()
            pumpDTLS()
        }
        // ICE consent freshness (RFC 7675): no valid check for 30 s → the peer is gone.
        if lastConsentMs > 0, now > lastConsentMs + Self.consentTimeoutMs {
            close(reason: "ice consent timeout", notify: true)
        }
    }
}

extension DTLSCertificate {
    static func isSupported(_ algorithm: String) -> Bool {
        ["sha-1", "sha-224", "sha-256", "sha-384", "sha-512"].contains(algorithm.lowercased())
    }
}
