import CPrefetch
import NIOCore
import RTP
import SRTP
import STUN

/// A UDP link from this router to a router on another worker (here or on another node) that
/// carries the RTP of piped producers (mediasoup `PipeTransport`, audio only).
///
/// It lives on the worker's one shared UDP port, like the WebRTC transports: there is no ICE and
/// no DTLS. Each side reports its local (ip, port) and SRTP parameters (``create(…)``), and is
/// ``connect(remote:srtpParameters:)``ed with the other side's, exchanged over the control path.
/// SRTP is on by default with AEAD_AES_256_GCM and a fresh random master key per transport and
/// direction; the key never crosses the media path.
///
/// ### Why pipes are demultiplexed by (remote tuple, SSRC)
/// Every worker has one port, so all pipes between two workers share one 5-tuple: a room per
/// pipe pair means several pipes on the same tuple, and the tuple alone cannot pick one.
/// Rather than one shared link per worker pair (one SRTP context for every room, so a key
/// leak or a replay-window reset would concern them all, and the link's lifetime would no
/// longer follow the rooms') or a prefix in front of each packet (not RTP any more, so neither
/// SRTP nor the classifier of RFC 7983 apply), each pipe keeps its own keys and the worker
/// looks a packet up by its source tuple and its SSRC, which SRTP leaves in clear (RFC 3711
/// §3.1) and authenticates. The SSRCs are chosen by the *sending* worker for its pipe consumers,
/// unique per destination tuple (``SFUWorker/allocatePipeSSRC(to:)``), so within one node there
/// is never a collision; the receiving worker still checks, and refuses a pipe producer whose
/// (tuple, SSRC) is taken (``SFUError/Kind/ssrcInUse``), so a peer node that gets it wrong
/// (item 3: pipes across nodes) cannot steal another room's stream. A forged packet with a
/// known (tuple, SSRC) fails the pipe's SRTP authentication: a counted
/// ``DropReason/pipeSRTPUnprotectFailed``.
///
/// Producers on this transport (pipe producers) receive; consumers on it (``PipeConsumer``s)
/// send: a pipe is usually used one way, but nothing stops both.
/// Owned by its ``Router``. Confined to the worker's event loop.
package final class PipeTransport {
    // MARK: - Stored properties

    /// Lower-case UUID.
    package let id: String
    unowned let router: Router
    /// `unowned(unsafe)`: used for every packet (sink, counters), and the worker outlives its
    /// routers' transports (all on its loop).
    unowned(unsafe) let worker: SFUWorker
    /// The suite and our outbound master key‖salt; nil when SRTP is off.
    let localSRTP: (profile: SRTPProfile, keyAndSalt: [UInt8])?
    /// Where our packets go and where the other side's come from; nil until `connect`.
    package private(set) var remoteAddress: TransportAddress?
    private var srtpInbound: SRTPSession?
    private var srtpOutbound: SRTPSession?
    package private(set) var isClosed = false

    /// Pipe producers (copies of producers of the remote router) by id and by pipe SSRC.
    private(set) var producers: [String: Producer] = [:]
    private var producersBySSRC: [UInt32: Producer] = [:]
    /// Pipe consumers (our router's producers, sent to the remote router).
    private(set) var consumers: [String: PipeConsumer] = [:]

    @exclusivity(unchecked) private(set) var bytesReceived: UInt64 = 0
    @exclusivity(unchecked) private(set) var bytesSent: UInt64 = 0

    /// The only suite a pipe offers and accepts: RFC 7714 AES-256-GCM (authenticated encryption
    /// with a 16-byte tag; AES-NI makes it the cheapest of the four on x86).
    package static let srtpProfile = SRTPProfile.aeadAES256GCM

    // MARK: - Init

    init(id: String, router: Router, worker: SFUWorker, enableSRTP: Bool) {
        self.id = id
        self.router = router
        self.worker = worker
        if enableSRTP {
            var generator = SystemRandomNumberGenerator()
            let key = (0..<Self.srtpProfile.keyAndSaltLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            localSRTP = (Self.srtpProfile, key)
        } else {
            localSRTP = nil
        }
    }

    package var isConnected: Bool { remoteAddress != nil }

    // MARK: - Connect (control path)

    /// The remote side's tuple and SRTP master key‖salt (decoded and checked by the caller,
    /// ``Router/connectPipeTransport(_:ip:port:srtpParameters:)``). A second call is refused:
    /// the tuple is part of the demux key of every stream on this pipe.
    func connect(remote: TransportAddress, remoteKeyAndSalt: [UInt8]?) throws(SFUError) {
        guard !isClosed else { throw SFUError(.transportClosed, id) }
        guard remoteAddress == nil else { throw SFUError(.alreadyConnected, id) }
        if let localSRTP {
            guard let remoteKeyAndSalt, remoteKeyAndSalt.count == localSRTP.profile.keyAndSaltLength else {
                throw SFUError(.badPipeParameters, "SRTP key of the wrong length")
            }
            do {
                srtpOutbound = try SRTPSession(profile: localSRTP.profile, keyAndSalt: localSRTP.keyAndSalt, direction: .outbound)
                srtpInbound = try SRTPSession(profile: localSRTP.profile, keyAndSalt: remoteKeyAndSalt, direction: .inbound)
            } catch {
                throw SFUError(.internalError, "pipe SRTP session: \(error)")
            }
        } else if remoteKeyAndSalt != nil {
            throw SFUError(.badPipeParameters, "SRTP parameters given to a pipe without SRTP")
        }
        remoteAddress = remote
        worker.pipeConnected(self)
    }

    // MARK: - Packet path (receive)

    /// An RTP datagram the worker matched to this pipe by (source tuple, SSRC): the guard
    /// ladder of ``WebRTCTransport/receivedRTP(_:now:)`` without ICE and DTLS.
    func receivedRTP(_ datagram: inout ByteBuffer, now: NIODeadline) {
        bytesReceived &+= UInt64(datagram.readableBytes)
        guard !isClosed else {
            worker.drop(.transportClosed)
            return
        }
        let nowNs = now.uptimeNanoseconds
        let srtp = srtpInbound
        let encrypted = localSRTP != nil
        datagram.withUnsafeMutableReadableBytes { bytes in
            var length = bytes.count
            if encrypted {
                guard let srtp else { return worker.drop(.noSRTPSession) }
                do {
                    length = try srtp.unprotectRTP(bytes, length: bytes.count)
                } catch {
                    return worker.drop(.pipeSRTPUnprotectFailed)
                }
            }
            guard let packet = RTPPacketView(UnsafeMutableRawBufferPointer(rebasing: bytes[0..<length])) else {
                return worker.drop(.rtpParseFailed)
            }
            guard let producer = producersBySSRC[packet.ssrc] else { return worker.drop(.pipeUnknownSSRC) }
            router.receiveRTP(packet, for: producer, now: nowNs)
        }
    }

    // MARK: - Packet path (send)

    /// Copies a router-space packet into the sink with the pipe SSRC, protects it and sends it to
    /// the remote worker. Sequence numbers and timestamps stay the producer's, so the remote
    /// router's consumers see the stream the local ones see (their own rewrite follows there).
    @inline(__always)
    func sendRTP(_ packet: RTPPacketView, ssrc: UInt32) -> Bool {
        guard let remoteAddress else { return false }
        let length = packet.bytes.count
        let srtp = srtpOutbound
        let overhead = srtp?.profile.rtpOverhead ?? 0
        if localSRTP != nil, srtp == nil { return false }
        var sent = 0
        worker.sink.send(to: remoteAddress, capacity: length + overhead) { out in
            guard let target = out.baseAddress, let source = packet.bytes.baseAddress else { return 0 }
            target.copyMemory(from: source, byteCount: length)
            // RFC 3550 §5.1: the SSRC is bytes 8–11.
            target.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
            guard let srtp else {
                sent = length
                return length
            }
            do {
                sent = try srtp.protectRTP(out, length: length)
            } catch {
                worker.drop(.srtpProtectFailed)
                return 0
            }
            return sent
        }
        guard sent > 0 else { return false }
        bytesSent &+= UInt64(sent)
        worker.counters.rtpOut &+= 1
        return true
    }

    // MARK: - Children

    func addProducer(_ producer: Producer, ssrc: UInt32) {
        producers[producer.id] = producer
        producersBySSRC[ssrc] = producer
    }

    func removeProducer(_ producer: Producer) {
        guard producers.removeValue(forKey: producer.id) != nil else { return }
        if let ssrc = producer.ssrc, producersBySSRC[ssrc] === producer {
            producersBySSRC[ssrc] = nil
            if let remoteAddress { worker.pipeStreamRemoved(from: remoteAddress, ssrc: ssrc, transport: self) }
        }
    }

    func addConsumer(_ consumer: PipeConsumer) {
        consumers[consumer.id] = consumer
    }

    func removeConsumer(_ consumer: PipeConsumer) {
        guard consumers.removeValue(forKey: consumer.id) != nil else { return }
        if let remoteAddress { worker.releasePipeSSRC(consumer.ssrc, to: remoteAddress) }
    }

    /// Marks the transport closed; the router has closed its producers and consumers first.
    func markClosed() {
        guard !isClosed else { return }
        isClosed = true
        srtpInbound = nil
        srtpOutbound = nil
        worker.pipeClosed(self)
    }

    /// State and counters for `stats()`.
    package var stats: PipeTransportStats {
        PipeTransportStats(
            id: id, remoteAddress: remoteAddress.map { "\($0)" }, srtpProfile: localSRTP?.profile.description,
            bytesReceived: bytesReceived, bytesSent: bytesSent, producerIds: producers.keys.sorted(), consumerIds: consumers.keys.sorted())
    }
}

extension PipeTransport: ProducerTransport {}
