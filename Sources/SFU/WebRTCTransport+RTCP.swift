import DTLS
import ICELite
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
        bytesReceived &+= UInt64(datagram.readableBytes)
        guard case .connected(let connected) = phase else {
            worker.drop(isClosed ? .transportClosed : .notDTLSConnected)
            return
        }
        let srtp = connected.keys.inbound
        do {
            try srtp.unprotectRTCP(&datagram)
        } catch {
            worker.drop(.srtpUnprotectFailed)
            return
        }
        let nowNs = now.uptimeNanoseconds
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
                producerForSSRC(report.ssrc)?.receivedSenderReport(report, now: nowNs)
                receivedReportBlocks(report.reportBlocks, now: now)
            case .receiverReport(let report):
                receivedReportBlocks(report.reportBlocks, now: now)
            case .genericNACK(let nack):
                guard let consumer = consumerForSSRC(nack.mediaSSRC) else { continue }
                router.consumerRequestedRetransmission(consumer, sequenceNumbers: nack.lostSequenceNumbers, now: nowNs)
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
        guard !isClosed, now.uptimeNanoseconds >= timersDueAt else { return nil }
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

    /// The earliest of this transport's deadlines (monotonic ns; `UInt64.max` for none).
    private func nextTimerDeadline() -> UInt64 {
        var next = UInt64.max
        if let dtls, let deadline = dtls.pollTimeout() { next = min(next, deadline.uptimeNanoseconds) }
        if let deadline = ice.nextTimeout { next = min(next, deadline.uptimeNanoseconds) }
        guard case .connected(let connected) = phase else { return next }
        if !producers.isEmpty { next = min(next, connected.nextReceiverReportAt.uptimeNanoseconds) }
        for consumer in consumers.values { next = min(next, consumer.nextSenderReportAt) }
        return next
    }

    /// RR for our producers every ``SFUWorker/receiverReportInterval``; SR + SDES for each consumer
    /// when its (staggered) time comes.
    private func sendReports(now: NIODeadline) {
        guard case .connected(var connected) = phase else { return }
        let nowNs = now.uptimeNanoseconds
        if connected.nextReceiverReportAt <= now, !producers.isEmpty {
            connected.nextReceiverReportAt = now + .nanoseconds(Int64(SFUWorker.receiverReportInterval))
            phase = .connected(connected)
            let blocks = producers.values.compactMap { $0.makeReportBlock(now: nowNs) }
            if !blocks.isEmpty {
                var buffer = ByteBuffer()
                buffer.reserveCapacity(64 + 24 * blocks.count)
                for chunk in stride(from: 0, to: blocks.count, by: 31) {
                    buffer.writeRTCPPacket(.receiverReport(RTCPReceiverReport(ssrc: rtcpSSRC, reportBlocks: Array(blocks[chunk..<min(chunk + 31, blocks.count)]))))
                }
                sendRTCPCompound(buffer)
            }
        }
        var ntp: UInt64?
        for consumer in consumers.values where consumer.nextSenderReportAt <= nowNs {
            consumer.nextSenderReportAt = nowNs &+ SFUWorker.senderReportInterval
            let timestamp = ntp ?? worker.ntpTimestamp(now)
            ntp = timestamp
            guard let report = consumer.makeSenderReport(now: nowNs, ntp: timestamp) else { continue }
            var buffer = ByteBuffer()
            buffer.reserveCapacity(128)
            buffer.writeRTCPPacket(.senderReport(report))
            buffer.writeRTCPPacket(.sourceDescription(RTCPSourceDescription(chunks: [
                .init(ssrc: consumer.ssrc, items: [.cname(consumer.mapping.cname)])
            ])))
            sendRTCPCompound(buffer)
        }
    }
}
