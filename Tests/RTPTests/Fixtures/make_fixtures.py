"""Regenerates the aiortc-encoded fixtures in this directory (aiortc 1.16.0, the RTP/RTCP stack
pymediasoup runs on). Each .raw is the exact bytes aiortc's own encoder produced; the matching
.info says what was encoded, so the Swift tests can check our parser and builder against an
independent implementation.   python3 make_fixtures.py"""
from aiortc import rtp
from aiortc.rtcrtpparameters import RTCRtpParameters, RTCRtpHeaderExtensionParameters

def write(name, data, info):
    open(name + ".raw", "wb").write(data)
    open(name + ".info", "w").write(info.strip() + "\n")

# RTP: an Opus packet with the header extensions pymediasoup negotiates (mid=1, audio level=2).
params = RTCRtpParameters(headerExtensions=[
    RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
    RTCRtpHeaderExtensionParameters(id=2, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
])
extmap = rtp.HeaderExtensionsMap()
extmap.configure(params)
packet = rtp.RtpPacket(payload_type=96, marker=1, sequence_number=65535, timestamp=3000000000, ssrc=2659474323,
                       payload=bytes([0x78, 0x0b, 0xe4, 0xc1, 0x36, 0xec, 0xc5, 0x8d]))
packet.extensions.mid = "0"
packet.extensions.audio_level = (True, 37)
write("aiortc-opus-mid-level", packet.serialize(extmap), """
aiortc RtpPacket.serialize: PT 96, marker 1, seq 65535, ts 3000000000, SSRC 2659474323,
extensions mid id 1 = "0", ssrc-audio-level id 2 = (voice True, level 37), payload 780be4c136ecc58d
""")

# RTCP compound as aiortc sends it: SR with one report block, then SDES CNAME.
sr = rtp.RtcpSrPacket(ssrc=2659474323, sender_info=rtp.RtcpSenderInfo(
    ntp_timestamp=0xE9B1_2345_6789_ABCD, rtp_timestamp=3000000960, packet_count=51, octet_count=4321),
    reports=[rtp.RtcpReceiverInfo(ssrc=11223344, fraction_lost=25, packets_lost=7, highest_sequence=0x0001_0010,
                                  jitter=123, lsr=0x2345_6789, dlsr=65536)])
sdes = rtp.RtcpSdesPacket(chunks=[rtp.RtcpSourceInfo(ssrc=2659474323, items=[(1, b"c61cba89-4f4a-4fd0-9d54-8f6b0e1c2a11")])])
write("aiortc-rtcp-sr-sdes", bytes(sr) + bytes(sdes), """
aiortc compound: SR ssrc 2659474323 ntp 0xE9B123456789ABCD rtp 3000000960 packets 51 octets 4321,
block ssrc 11223344 fraction 25 lost 7 highest 0x00010010 jitter 123 lsr 0x23456789 dlsr 65536;
SDES chunk ssrc 2659474323 CNAME "c61cba89-4f4a-4fd0-9d54-8f6b0e1c2a11"
""")

# RR with a negative cumulative loss, BYE, generic NACK, PLI, REMB.
rr = rtp.RtcpRrPacket(ssrc=1, reports=[rtp.RtcpReceiverInfo(ssrc=2659474323, fraction_lost=0, packets_lost=-3,
                                                            highest_sequence=70000, jitter=5, lsr=0, dlsr=0)])
bye = rtp.RtcpByePacket(sources=[2659474323, 42])
nack = rtp.RtcpRtpfbPacket(fmt=1, ssrc=1, media_ssrc=2659474323, lost=[1000, 1001, 1005, 1016, 1017, 1050])
pli = rtp.RtcpPsfbPacket(fmt=1, ssrc=1, media_ssrc=2659474323)
remb = rtp.RtcpPsfbPacket(fmt=15, ssrc=1, media_ssrc=0, fci=rtp.pack_remb_fci(300000, [2659474323]))
write("aiortc-rtcp-rr-bye-nack-pli-remb", bytes(rr) + bytes(bye) + bytes(nack) + bytes(pli) + bytes(remb), """
aiortc compound: RR ssrc 1 block ssrc 2659474323 lost -3 highest 70000 jitter 5; BYE 2659474323 42;
NACK sender 1 media 2659474323 lost 1000 1001 1005 1016 1017 1050; PLI sender 1 media 2659474323;
REMB sender 1 bitrate 300000 ssrcs [2659474323]
""")
