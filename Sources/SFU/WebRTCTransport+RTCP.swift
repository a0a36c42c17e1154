import DTLS
import ICELite
import MediasoupWire
import NIOCore
import RTP
import SRTP

extension WebRTCTransport {
    // MARK: - RTCP in

    /// An SRTCP compound from a tuple that passed an ICE check (RFC 3550 §6, RFC 4585 §6).
    ///
    /// - SR from a producer's client: LSR/DLSR for the RR we send back.
    /// - RR (or report blocks inside an SR) about one of our consumers: loss, jitter, RTT.
    /// - Generic NACK about a consumer: retransmit from its producer's buffer (via the router).
    /// - PLI/FIR: meaningless for audio, ignored (mediasoup ignores key-frame requests for audio).
    func receivedRTCP(_ datagram: inout ByteBuffer, now: NIODeadline) {
        guard let srtp = inboundSRTP(received: datagram.readableBytes) else { return }
        do {
            try srtp.unprotectRTCP(&datagram)
        } catch {
            worker.drop(.srtpUnprotectFailed)
            return
        }
        var reader = RTCPCompoundReader(datagram)
        while true {
            let next: RTCPPacket?
            do {
                next = try reader.next()
            } catch {
                worker.drop(error.type == .tooManyItems ? .rtcpTooManyItems : .rtcpParseFailed)
                return
            }
            guard let packet = next else { return }
            switch packet {
            case .senderReport(let report):
                producerForSSRC(report.ssrc)?.receivedSenderReport(report, now: now)
                receivedReportBlocks(report.reportBlocks, now: now)
            case .receiverReport(let report):
                receivedReportBlocks(report.reportBlocks, now: now)
            case .genericNACK(let nack):
                guard let consumer = consumerForSSRC(nack.mediaSSRC) else { continue }
                router.consumerRequestedRetransmission(consumer, sequenceNumbers: nack.lostSequenceNumbers, now: now)
            case .pictureLossIndication, .sourceDescription, .goodbye, .transportWideCC, .receiverEstimatedMaxBitrate, .unknown:
                continue
            }
        }
    }

    private func receivedReportBlocks(_ blocks: [RTCPReportBlock], now: NIODeadline) {
        guard !blocks.isEmpty else { return }
        let compactNow = UInt32(truncatingIfNeeded: worker.ntpTimestamp(now) >> 16)
        for block in blocks {
            consumerForSSRC(block.ssrc)?.receivedReportBlock(block, compactNTPNow: compactNow)
        }
    }

    // MARK: - Timers

    /// Drives this transport's timers; called from the router's tick.
    /// - Returns: why the transport must close (DTLS failed, ICE consent lost), for the router.
    func tick(now: NIODeadline) -> CloseReason? {
        guard !isClosed, let due = timersDueAt, now >= due else { return nil }
        // DTLS retransmission (RFC 6347 §4.2.4).
        if let dtls, let deadline = dtls.pollTimeout(), deadline <= now {
            dtls.handleTimeout(now: now)
            if let reason = drainDTLSFromTimer(now: now) { return reason }
        }
        // ICE consent (RFC 7675 §5.1: 30 s without a valid check and consent is lost).
        if let reason = checkConsent(now: now) { return reason }
        sendReports(now: now)
        timersDueAt = nextTimerDeadline()
        return nil
    }

    /// The earliest of this transport's deadlines, nil for none.
    private func nextTimerDeadline() -> NIODeadline? {
        // No array of candidates: this runs for every due transport on the worker's tick.
        var next: NIODeadline?
        func consider(_ deadline: NIODeadline?) {
            guard let deadline else { return }
            next = min(next ?? deadline, deadline)
        }
        consider(dtls?.pollTimeout())
        consider(ice.nextTimeout)
        guard case .connected(let connected) = phase else { return next }
        if !producers.isEmpty { consider(connected.nextReceiverReportAt) }
        for consumer in consumers.values { consider(consumer.nextSenderReportAt) }
        return next
    }

    /// RR for our producers every ``SFUWorker/receiverReportInterval``; SR + SDES for each consumer
    /// when its (staggered) time comes.
    private func sendReports(now: NIODeadline) {
        guard case .connected(var connected) = phase else { return }
        if connected.nextReceiverReportAt <= now, !producers.isEmpty {
            connected.nextReceiverReportAt = now + SFUWorker.receiverReportInterval
            phase = .connected(connected)
            let blocks = producers.values.compactMap { $0.makeReportBlock(now: now) }
            if !blocks.isEmpty {
                var buffer = ByteBuffer()
                buffer.reserveCapacity(64 + 24 * blocks.count)
                for chunk in stride(from: 0, to: blocks.count, by: 31) {
                    buffer.writeRTCPPacket(
                        .receiverReport(RTCPReceiverReport(ssrc: rtcpSSRC, reportBlocks: Array(blocks[chunk..<min(chunk + 31, blocks.count)]))))
                }
                sendRTCPCompound(buffer)
            }
        }
        var ntp: UInt64?
        for consumer in consumers.values where consumer.nextSenderReportAt <= now {
            consumer.nextSenderReportAt = now + SFUWorker.senderReportInterval
            let timestamp = ntp ?? worker.ntpTimestamp(now)
            ntp = timestamp
            guard let report = consumer.makeSenderReport(now: now, ntp: timestamp) else { continue }
            var buffer = ByteBuffer()
            buffer.reserveCapacity(128)
            buffer.writeRTCPPacket(.senderReport(report))
            buffer.writeRTCPPacket(
                .sourceDescription(
                    RTCPSourceDescription(chunks: [
                        .init(ssrc: consumer.ssrc, items: [.cname(consumer.mapping.cname)])
                    ])))
            sendRTCPCompound(buffer)
        }
    }
}
