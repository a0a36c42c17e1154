import Foundation
import RTP
import SRTP

/// (a) The per-consumer work of forwarding one Opus packet: copy into the scratch buffer, rewrite
/// SSRC / sequence / timestamp / payload type / extension ids, and SRTP-protect it, for each SRTP
/// profile (the socket write is measured by the loopback fan-out benchmark, not here).
func sfuForwardingBenchmark() {
    // A real-shaped aiortc Opus packet: PT 96, one-byte extensions mid (id 1) + audio level (id 2), 80 B payload.
    var packet: [UInt8] = [0x90, 96, 0x12, 0x34, 0, 0, 0x10, 0, 0xDE, 0xAD, 0xBE, 0xEF,
                           0xBE, 0xDE, 0x00, 0x02, 0x10, 0x30, 0x20, 0x9E, 0x00, 0x00, 0x00, 0x00]
    packet += [UInt8](repeating: 0x5A, count: 80)
    let length = packet.count
    var map = [UInt8](repeating: 0, count: 256)
    map[1] = 1
    map[2] = 10
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 16)
    defer { scratch.deallocate() }
    for (name, profile) in [("AEAD_AES_256_GCM", SRTPSession.Profile.aeadAES256GCM), ("AEAD_AES_128_GCM", .aeadAES128GCM), ("AES_CM_128_HMAC_SHA1_80", .aes128CMSHA1_80)] {
        let key = [UInt8](repeating: 7, count: profile.keyAndSaltLength)
        guard let session = try? SRTPSession(profile: profile, direction: .outbound, keyAndSalt: key) else { continue }
        var seq: UInt16 = 0
        let perPacket = packet.withUnsafeBytes { source in
            measure(200_000) {
                scratch.copyMemory(from: source.baseAddress!, byteCount: length)
                let view = RTPPacketView(scratch, length: length)!
                seq &+= 1
                view.sequenceNumber = seq
                view.timestamp = view.timestamp &+ 960
                view.ssrc = 0x1234_5678
                view.payloadType = 100
                map.withUnsafeBufferPointer { view.remapExtensionIds($0.baseAddress!) }
                _ = try? session.protectRTP(scratch, length: length)
            }
        }
        print("sfu forward (copy + rewrite + SRTP protect, \(name), \(length) B): \(format(perPacket)) CPU per forwarded packet")
    }
}
