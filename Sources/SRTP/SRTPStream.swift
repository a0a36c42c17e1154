/// The state of one SSRC's SRTP stream: where its rollover counter stands and which indexes were
/// seen. RFC 3711 §3.3.1 index estimation, as libsrtp does it (`srtp_rdbx_estimate_index`):
/// until the stream has passed sequence number 32768 the ROC is taken as 0, so a sender that
/// starts high is not mistaken for one that wrapped backwards.
///
/// A class, so the session's per-SSRC table hands out a reference and the window's bits are
/// updated in place (no copy-on-write per packet).
final class SRTPStream {
    /// Updated for every packet (no runtime exclusivity tracking; a session is single-threaded).
    @exclusivity(unchecked) var window: SRTPReplayWindow
    /// SRTCP: the last index this (outbound) stream used; the first packet gets 1, as libsrtp.
    var sentRTCPIndex: UInt32 = 0

    init(windowSize: Int) { window = SRTPReplayWindow(size: windowSize) }

    /// The 48-bit packet index (ROC ‖ SEQ) a packet with `sequenceNumber` most likely has.
    func estimateIndex(_ sequenceNumber: UInt16) -> UInt64 {
        Self.estimateIndex(sequenceNumber, highest: window.highest)
    }

    /// The estimate relative to `highest` (0 for a stream not seen yet).
    static func estimateIndex(_ sequenceNumber: UInt16, highest: UInt64) -> UInt64 {
        // No trap: roc = highest >> 16 < 2^48, so roc ± 1 and the shifts stay in UInt64 (the
        // shift drops high bits rather than trapping); `localSeq + median` < 2^17, and
        // `localSeq - median` only runs when localSeq ≥ median.
        let median: UInt64 = 1 << 15
        let s = UInt64(sequenceNumber)
        guard highest > median else { return s }
        let roc = highest >> 16
        let localSeq = highest & 0xFFFF
        if localSeq < median {
            if s > localSeq + median, roc > 0 { return (roc - 1) << 16 | s }
            return roc << 16 | s
        }
        if localSeq - median > s { return (roc + 1) << 16 | s }
        return roc << 16 | s
    }
}
