#!/usr/bin/env python3
"""Writes the seed corpora of msab-fuzz (Fuzz/corpus/<target>/): valid inputs of each decoder,
from the protocol specs' examples and the fixtures the unit tests use, so the fuzzer starts past
the first length checks. Run from the repository root; the output is committed."""
import binascii, hashlib, hmac, json, os, socket, struct, subprocess, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fuzz", "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def h(text):
    return binascii.unhexlify("".join(text.split()))


# Engine.IO v4 (docs/engine.io-protocol/v4-current.md): packet types 0-6, "b" + base64 binary.
for i, p in enumerate(["0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}",
                       "1", "2", "2probe", "3", "3probe", "4hello", "4", "5", "6", "bAQIDBA==", "4\u00e9\u00e8"]):
    write("engine-packet", f"seed{i}", p)
for i, p in enumerate(["4hello\x1e4world", "2\x1e3\x1e6", "bAQIDBA==\x1e4x", "4"]):
    write("engine-payload", f"seed{i}", p)

# Socket.IO v5 (docs/socket.io-protocol/v5-current.md examples).
for i, p in enumerate(["0", "0/admin,", "0{\"token\":\"123\"}", "0/admin,{\"token\":\"123\"}", "1", "1/admin,",
                       "2[\"hello\",1]", "2/admin,456[\"project:delete\",123]", "3/admin,456[]", "212[\"x\",{\"a\":[1,2,{\"b\":null}]}]",
                       "4{\"message\":\"Not authorized\"}", "51-[\"hello\",{\"_placeholder\":true,\"num\":0}]",
                       "52-/admin,456[\"x\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
                       "61-/admin,456[{\"_placeholder\":true,\"num\":0}]", "2[42,1e300]", "2[\"room:join\",{\"roomId\":\"42\"}]"]):
    write("socketio-packet", f"seed{i}", p)

# JSON (RFC 8259).
for i, p in enumerate(["{}", "[]", "null", "true", "-0.5e-3", "\"\\u00e9\\ud83d\\ude00\\n\"",
                       "{\"a\":[1,2,{\"b\":[null,true,false,\"x\"]}],\"c\":1.5e308}", "[[[[[[[[[[1]]]]]]]]]]",
                       json.dumps({"roomId": "42", "transportId": "t", "rtpParameters": {"codecs": [], "encodings": [{"ssrc": 1}]}})]):
    write("json", f"seed{i}", p)

# STUN: RFC 5769 §2.1-2.4, and a Binding request that passes the fuzz agent's checks
# (USERNAME fuzzufrag:peer, MESSAGE-INTEGRITY with its password, FINGERPRINT, USE-CANDIDATE).
write("stun", "rfc5769-request", h("""00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
 80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74 00 24 00 04 6e 00 01 ff
 80 29 00 08 93 2f f9 b1 51 26 3b 36 00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
 00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2 80 28 00 04 e5 7a 3b cf"""))
write("stun", "rfc5769-ipv6-response", h("""01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
 80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20 00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
 00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41 80 28 00 04 c8 fb 0b 4c"""))


def stun_attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def binding_request(use_candidate):
    tid = bytes(range(12))
    attrs = stun_attr(0x0006, b"fuzzufrag:peer") + stun_attr(0x0024, struct.pack("!I", 0x6E0001FF))
    attrs += stun_attr(0x802A, b"\0" * 8)  # ICE-CONTROLLING
    if use_candidate:
        attrs += stun_attr(0x0025, b"")
    length = len(attrs) + 24
    head = struct.pack("!HHI", 0x0001, length, 0x2112A442) + tid
    mac = hmac.new(b"fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz", head + attrs, hashlib.sha1).digest()
    attrs += stun_attr(0x0008, mac)
    length = len(attrs) + 8
    head = struct.pack("!HHI", 0x0001, length, 0x2112A442) + tid
    crc = (zlib.crc32(head + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    return head + attrs + stun_attr(0x8028, struct.pack("!I", crc))


write("stun", "binding-request", binding_request(False))
write("stun", "binding-request-use-candidate", binding_request(True))

# RTP / RTCP: the aiortc captures of Tests/RTPTests/Fixtures.
fixtures = os.path.join(ROOT, "Tests", "RTPTests", "Fixtures")
rtp = open(os.path.join(fixtures, "aiortc-opus-mid-level.raw"), "rb").read()
rtcp1 = open(os.path.join(fixtures, "aiortc-rtcp-rr-bye-nack-pli-remb.raw"), "rb").read()
rtcp2 = open(os.path.join(fixtures, "aiortc-rtcp-sr-sdes.raw"), "rb").read()
write("rtp", "aiortc-opus-mid-level", rtp)
write("rtp", "minimal", h("80 6f 00 01 00 00 00 a0 12 34 56 78 fc ff fe"))
write("rtcp", "rr-bye-nack-pli-remb", rtcp1)
write("rtcp", "sr-sdes", rtcp2)
write("rtcp", "nack-storm", h("81 cd 00 05 00 00 00 01 12 34 56 78") + h("00 10 ff ff") * 3)

# SRTP: selector byte (bits 0-1 profile, bit 2 RTCP) + a packet with room for a tag.
for profile in range(4):
    write("srtp", f"rtp-profile{profile}", bytes([profile]) + rtp + b"\0" * 16)
    write("srtp", f"rtcp-profile{profile}", bytes([profile | 4]) + rtcp2 + b"\x80\0\0\x01" + b"\0" * 16)

# DTLS: the first flight of OpenSSL's DTLS 1.2 client (a ClientHello with use_srtp).
listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
listener.bind(("127.0.0.1", 0))
listener.settimeout(5)
port = listener.getsockname()[1]
client = subprocess.Popen(["openssl", "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{port}",
                           "-use_srtp", "SRTP_AES128_CM_SHA1_80"], stdin=subprocess.PIPE,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    hello, _ = listener.recvfrom(4096)
    write("dtls-record", "client-hello", hello)
finally:
    client.kill()
    client.wait()
    listener.close()
write("dtls-record", "alert", h("15 fe fd 00 00 00 00 00 00 00 00 00 02 02 28"))

# mediasoup-client JSON: a producer's rtpParameters and a device's rtpCapabilities.
produce = json.load(open(os.path.join(ROOT, "Tests", "MediasoupWireTests", "Fixtures", "produce-tone.json")))
consume = json.load(open(os.path.join(ROOT, "Tests", "MediasoupWireTests", "Fixtures", "consume.json")))
write("mediasoup-json", "rtp-parameters", json.dumps(produce["produce_event"].get("rtpParameters", produce["produce_event"])))
write("mediasoup-json", "rtp-capabilities", json.dumps(consume["device_rtpCapabilities_sent_to_server"]))
write("mediasoup-json", "router-capabilities", json.dumps(produce["routerRtpCapabilities_given"]))
