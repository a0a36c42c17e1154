import CPrefetch
import MediasoupWire
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
    /// new → connected(link) → closed: the remote tuple and the SRTP sessions exist together
    /// or not at all (style R3). Read for every packet, never overlapping (loop-confined).
    @exclusivity(unchecked) private var phase: Phase = .new

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

    /// `localKeyAndSalt`: our outbound master key‖salt for ``srtpProfile`` (drawn by the router
    /// from the worker's generator, the system CSPRNG in production), or nil for a pipe without SRTP.
    init(id: String, router: Router, worker: SFUWorker, localKeyAndSalt: [UInt8]?) {
        self.id = id
        self.router = router
        self.worker = worker
        localSRTP = localKeyAndSalt.map { (Self.srtpProfile, $0) }
    }

    /// A pipe's life; each case carries what exists then.
    enum Phase {
        /// Created: our key (``localSRTP``) is known, the other side's tuple and key are not.
        case new
        /// `connect` gave the other side's tuple (and key): packets flow both ways.
        case connected(Link)
        /// Closed; terminal.
        case closed
    }

    /// A connected pipe: where packets go and come from, and how they are protected.
    struct Link {
        let remote: TransportAddress
        /// nil on a pipe without SRTP (``localSRTP`` is nil too).
        let srtp: Sessions?
    }

    /// Both SRTP directions of a pipe, keyed at `connect`. A class, so the packet path reading
    /// the ``Link`` retains one reference.
    final class Sessions {
        let inbound: SRTPSession
        let outbound: SRTPSession

        init(inbound: SRTPSession, outbound: SRTPSession) {
            self.inbound = inbound
            self.outbound = outbound
        }
    }

    /// Where our packets go and where the other side's come from; nil until `connect`.
    package var remoteAddress: TransportAddress? {
        guard case .connected(let link) = phase else { return nil }
        return link.remote
    }

    package var isConnected: Bool { remoteAddress != nil }

    package var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    // MARK: - Connect (control path)

    /// The remote side's tuple and SRTP master key‖salt (decoded and checked by the caller,
    /// ``Router/connectPipeTransport(_:ip:port:srtpParameters:)``). A second call is refused:
    /// the tuple is part of the demux key of every stream on this pipe.
    func connect(remote: TransportAddress, remoteKeyAndSalt: [UInt8]?) throws(SFUError) {
        switch phase {
        case .new: break
        case .connected: throw SFUError(.alreadyConnected, id)
        case .closed: throw SFUError(.transportClosed, id)
        }
        var sessions: Sessions?
        if let localSRTP {
            guard let remoteKeyAndSalt, remoteKeyAndSalt.count == localSRTP.profile.keyAndSaltLength else {
                throw SFUError(.badPipeParameters, "SRTP key of the wrong length")
            }
            do {
                sessions = Sessions(
                    inbound: try SRTPSession(profile: localSRTP.profile, keyAndSalt: remoteKeyAndSalt, direction: .inbound),
                    outbound: try SRTPSession(profile: localSRTP.profile, keyAndSalt: localSRTP.keyAndSalt, direction: .outbound))
            } catch {
                throw SFUError(.internalError, "pipe SRTP session: \(error)")
            }
        } else if remoteKeyAndSalt != nil {
            throw SFUError(.badPipeParameters, "SRTP parameters given to a pipe without SRTP")
        }
        phase = .connected(Link(remote: remote, srtp: sessions))
    }

    // MARK: - Packet path (receive)

    /// An RTP datagram the worker matched to this pipe by (source tuple, SSRC): the guard
    /// ladder of ``WebRTCTransport/receivedRTP(_:now:)`` without ICE and DTLS.
    func receivedRTP(_ datagram: inout ByteBuffer, now: NIODeadline) {
        bytesReceived &+= UInt64(datagram.readableBytes)
        let link: Link
        switch phase {
        case .connected(let connected): link = connected
        case .closed: return worker.drop(.transportClosed)
        // Unreachable through the worker's demux (only a connected pipe has streams there).
        case .new: return worker.drop(.pipeUnknownSSRC)
        }
        let srtp = link.srtp?.inbound
        datagram.withUnsafeMutableReadableBytes { bytes in
            var length = bytes.count
            if let srtp {
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
            router.receiveRTP(packet, for: producer, now: now)
        }
    }

    // MARK: - Packet path (send)

    /// Copies a router-space packet into the sink with the pipe SSRC, protects it and sends it to
    /// the remote worker. Sequence numbers and timestamps stay the producer's, so the remote
    /// router's consumers see the stream the local ones see (their own rewrite follows there).
    @inline(__always)
    func sendRTP(_ packet: RTPPacketView, ssrc: UInt32) -> Bool {
        guard case .connected(let link) = phase else { return false }
        let remoteAddress = link.remote
        let length = packet.bytes.count
        let srtp = link.srtp?.outbound
        let overhead = srtp?.profile.rtpOverhead ?? 0
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
            sent = worker.protectRTP(out, length: length, with: srtp)
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

    /// Marks the transport closed; the router has closed its producers and consumers first and
    /// takes its tuple out of the worker's pipe demux.
    func markClosed() {
        phase = .closed
    }

    /// State and counters for `stats()`.
    package var stats: PipeTransportStats {
        PipeTransportStats(
            id: id, remoteAddress: remoteAddress.map { "\($0)" }, srtpProfile: localSRTP?.profile.description,
            bytesReceived: bytesReceived, bytesSent: bytesSent, producerIds: producers.keys.sorted(), consumerIds: consumers.keys.sorted())
    }
}

extension PipeTransport: ProducerTransport {}
