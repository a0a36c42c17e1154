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

# ── Redis scale-out (../shared/redis-adapter.md): what comes from the Redis server ──────────────


class Raw(bytes):
    """Bytes mp() writes as they are: formats notepack no longer writes but peers may send."""


def mp(value):
    """MessagePack as notepack.io writes it (redis-adapter.md §A.2): smallest integer format,
    every other number float64, str/bin/array/map by length, dict keys in insertion order."""
    def sized(length, formats):
        for fmt, limit, width in formats:
            if fmt is not None and length < limit:
                return bytes([fmt]) + length.to_bytes(width, "big")
        raise ValueError("too large")
    if isinstance(value, Raw):
        return bytes(value)
    if value is None:
        return b"\xc0"
    if isinstance(value, bool):
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 0x80 or -0x20 <= value < 0:
            return struct.pack("!b" if value < 0 else "!B", value)
        for fmt, code in ((("B", 0xcc), ("H", 0xcd), ("I", 0xce), ("Q", 0xcf)) if value >= 0 else
                          (("b", 0xd0), ("h", 0xd1), ("i", 0xd2), ("q", 0xd3))):
            try:
                return bytes([code]) + struct.pack("!" + fmt, value)
            except struct.error:
                continue
    if isinstance(value, float):
        return b"\xcb" + struct.pack("!d", value)
    if isinstance(value, str):
        data = value.encode()
        head = bytes([0xa0 | len(data)]) if len(data) < 32 else sized(len(data), ((0xd9, 1 << 8, 1), (0xda, 1 << 16, 2), (0xdb, 1 << 32, 4)))
        return head + data
    if isinstance(value, bytes):
        return sized(len(value), ((0xc4, 1 << 8, 1), (0xc5, 1 << 16, 2), (0xc6, 1 << 32, 4))) + value
    if isinstance(value, list):
        head = bytes([0x90 | len(value)]) if len(value) < 16 else sized(len(value), ((0xdc, 1 << 16, 2), (0xdd, 1 << 32, 4)))
        return head + b"".join(mp(v) for v in value)
    if isinstance(value, dict):
        head = bytes([0x80 | len(value)]) if len(value) < 16 else sized(len(value), ((0xde, 1 << 16, 2), (0xdf, 1 << 32, 4)))
        return head + b"".join(mp(k) + mp(v) for k, v in value.items())
    raise TypeError(value)


def compact(value):
    """JSON as Node's JSON.stringify writes it (no spaces, keys in insertion order)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


SID = "AbCdEfGhIjKlMnOpQrSt"  # a base64id-shaped socket id (20 chars)

# §A.2: socket.to("42").emit("chat:message", {text: "hi"}) from SID, adapter uid Xy12Ab; and §A.4:
# emitter.emit("balance.updated", {coins: "10"}). The dumps byte for byte, checked against mp().
A2 = h("""93 a6 58 79 31 32 41 62 83 a4 74 79 70 65 02 a4 64 61 74 61 92
 ac 63 68 61 74 3a 6d 65 73 73 61 67 65 81 a4 74 65 78 74 a2 68 69 a3 6e 73 70 a1 2f
 83 a5 72 6f 6f 6d 73 91 a2 34 32 a6 65 78 63 65 70 74 91 b4""") + SID.encode() + h("a5 66 6c 61 67 73 80")
A4 = (h("93 a7") + b"emitter" + h("83 a4") + b"type" + h("02 a4") + b"data" + h("92 af") + b"balance.updated"
      + h("81 a5") + b"coins" + h("a2") + b"10" + h("a3") + b"nsp" + h("a1") + b"/" + h("83 a5") + b"rooms" + h("90 a5")
      + b"flags" + h("80 a6") + b"except" + h("90"))
assert A2 == mp(["Xy12Ab", {"type": 2, "data": ["chat:message", {"text": "hi"}], "nsp": "/"},
                 {"rooms": ["42"], "except": [SID], "flags": {}}])
assert A4 == mp(["emitter", {"type": 2, "data": ["balance.updated", {"coins": "10"}], "nsp": "/"},
                 {"rooms": [], "flags": {}, "except": []}])

broadcasts = {
    "a2-room-except": A2,
    "a4-emitter": A4,
    # Buffer.from([1,2,3]) as an argument (c4 03 01 02 03), to two rooms (base channel).
    "binary-argument": mp(["Xy12Ab", {"type": 2, "data": ["file", b"\x01\x02\x03", {"name": "x"}], "nsp": "/"},
                           {"rooms": ["a", "b"], "except": [], "flags": {"volatile": True, "compress": False}}]),
    # broadcastWithAck's packet (id set, flags.timeout) and a Date (notepack 3: d6 ff + seconds).
    "ack-id-timeout-date": mp(["Xy12Ab", {"type": 2, "data": ["ask", Raw(h("d6 ff 39 46 88 00")), 1.5, -7, 2 ** 40], "nsp": "/", "id": 12},
                               {"rooms": [], "except": [SID], "flags": {"timeout": 5000}}]),
    # PHP emitters: type 5, flags and rooms as empty arrays (0x90), no except, legacy flags, a numeric room.
    "php-emitter": mp(["emitter", {"type": 5, "data": ["ev", {"k": "v"}], "nsp": "/"}, {"rooms": [42], "flags": {"json": True, "broadcast": True}}]),
    "php-emitter-empty": mp(["emitter", {"type": 2, "data": ["ev"], "nsp": "/"}, {"rooms": [], "flags": []}]),
    # Legacy notepack 2 forms inside the data: undefined (d4 00 00), an ArrayBuffer (ext 0), a Date (d7 00).
    "legacy-ext": mp(["Xy12Ab", {"type": 2, "data": ["old", Raw(h("d4 00 00")), Raw(h("c7 02 00 ab cd")),
                                                     Raw(h("d7 00 00 00 01 7f 00 00 00 00"))]},
                      {"rooms": ["r"], "except": [], "flags": {}}]),
}
for name, data in broadcasts.items():
    write("redis-broadcast", name, data)
    write("msgpack", "broadcast-" + name, data)

# MessagePack: every format byte family of the spec (notepack writes a subset; peers may send any).
write("msgpack", "scalars", mp([None, True, False, 0, 127, -1, -32, 128, 255, 256, 65535, 65536, 2 ** 32, 2 ** 63 - 1,
                                -33, -128, -129, -32768, -32769, -2 ** 31 - 1, -2 ** 63, 0.5, -0.0, 1e300]))
write("msgpack", "uint64-float32", h("93 cf ff ff ff ff ff ff ff ff ca 3f c0 00 00 cb 7f f8 00 00 00 00 00 01"))
write("msgpack", "strings", mp(["", "x" * 31, "y" * 32, "z" * 256, "\u00e9\u20ac\U0001F600", b"", b"\x00" * 300]))
write("msgpack", "str-bin-widths", h("94 d9 01 61 da 00 01 62 db 00 00 00 01 63 c6 00 00 00 02 01 02"))
write("msgpack", "containers", mp([list(range(16)), {str(i): i for i in range(16)}, {1: "int key", True: [], None: {}}, [[[[[]]]]]]))
write("msgpack", "container-widths", h("93 dd 00 00 00 01 c0 df 00 00 00 01 a1 6b c0 de 00 00"))
write("msgpack", "timestamps", h("94 d6 ff 00 00 00 01 d7 ff 00 00 00 04 00 00 00 01 c7 0c ff 3b 9a c9 ff ff ff ff ff ff ff ff ff d7 00 ff ff ff ff ff ff ff ff"))
write("msgpack", "extensions", h("96 d4 00 00 d5 05 01 02 d6 05 01 02 03 04 d8 05") + bytes(16) + h("c7 03 01 31 32 33 c8 00 01 05 ff"))

# Requests on socket.io-request#/# (§A.3's table, one per type, plus the legacy and emitter forms)
# and the answers on socket.io-response#/#. JSON, except BROADCAST (7) and BROADCAST_ACK (9).
opts = {"rooms": ["room1"], "except": [SID]}
requests = {
    "0-sockets": compact({"uid": "Xy12Ab", "requestId": "r1", "type": 0, "rooms": ["room1", "42"]}),
    "1-all-rooms": compact({"uid": "Xy12Ab", "requestId": "r1", "type": 1}),
    "2-remote-join": compact({"uid": "Xy12Ab", "type": 2, "opts": opts, "rooms": ["vip"]}),
    "2-remote-join-legacy": compact({"uid": "Xy12Ab", "requestId": "r1", "type": 2, "sid": SID, "room": "vip"}),
    "2-remote-join-emitter": compact({"type": 2, "opts": {"rooms": [], "except": []}, "rooms": ["vip", 7]}),
    "3-remote-leave": compact({"uid": "Xy12Ab", "type": 3, "opts": opts, "rooms": ["vip"]}),
    "3-remote-leave-legacy": compact({"uid": "Xy12Ab", "requestId": "r1", "type": 3, "sid": SID, "room": "vip"}),
    "4-remote-disconnect": compact({"uid": "Xy12Ab", "type": 4, "opts": opts, "close": True}),
    "4-remote-disconnect-legacy": compact({"uid": "Xy12Ab", "requestId": "r1", "type": 4, "sid": SID, "close": False}),
    "5-remote-fetch": compact({"uid": "Xy12Ab", "requestId": "r1", "type": 5, "opts": opts}),
    "6-server-side-emit": compact({"uid": "Xy12Ab", "type": 6, "data": ["hello", 1, {"a": [True, None]}]}),
    "6-server-side-emit-ack": compact({"uid": "Xy12Ab", "requestId": "r1", "type": 6, "data": ["hello", -2.5e-3]}),
    "6-server-side-emit-emitter": compact({"uid": "emitter", "type": 6, "data": ["ev", {"k": "v"}]}),
    "7-broadcast-ack": mp({"uid": "Xy12Ab", "requestId": "r1", "type": 7,
                           "packet": {"type": 2, "data": ["ask", {"q": 1}, b"\x01\x02"], "nsp": "/", "id": 3},
                           "opts": {"rooms": ["room1"], "except": [SID], "flags": {"timeout": 5000}}}),
    "unknown-type": compact({"uid": "Xy12Ab", "requestId": "r1", "type": 42}),
}
handshake = {"headers": {"host": "example.com", "user-agent": "node"}, "time": "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)",
             "address": "::1", "xdomain": False, "secure": False, "issued": 1700000000000, "url": "/socket.io/?EIO=4&transport=websocket",
             "query": {"EIO": "4", "transport": "websocket"}, "auth": {"token": "t"}}
responses = {
    "response-0-sockets": compact({"requestId": "r1", "sockets": [SID, "BbCdEfGhIjKlMnOpQrSt"]}),
    "response-1-all-rooms": compact({"requestId": "r1", "rooms": [SID, "room1"]}),
    "response-5-remote-fetch": compact({"requestId": "r1", "sockets": [{"id": SID, "handshake": handshake, "rooms": [SID, "room1"],
                                                                        "data": {"userId": 7}}]}),
    "response-6-server-side-emit": compact({"type": 6, "requestId": "r1", "data": {"ok": True}}),
    "response-8-client-count": compact({"type": 8, "requestId": "r1", "clientCount": 3}),
    "response-9-broadcast-ack": mp({"type": 9, "requestId": "r1", "packet": ["ok", b"\xff\x00"]}),
    "response-legacy-ack": compact({"requestId": "r1"}),
}
for name, data in {**requests, **responses}.items():
    write("redis-request", name, data)
write("msgpack", "request-7-broadcast-ack", requests["7-broadcast-ack"])
write("msgpack", "response-9-broadcast-ack", responses["response-9-broadcast-ack"])


def bulk(data):
    if isinstance(data, str):
        data = data.encode()
    return b"$%d\r\n" % len(data) + data + b"\r\n"


def resp_array(*items, kind=b"*"):
    return kind + b"%d\r\n" % len(items) + b"".join(items)


# RESP replies, every RESP2 and RESP3 type (redis.io protocol spec examples), and the pub/sub
# traffic a subscriber connection sees. The first byte of each seed says where the rest is split
# into two reads (Fuzz/msab-fuzz/FuzzTarget.swift).
replies = {
    "simple": b"+OK\r\n",
    "error": b"-ERR unknown command 'x', with args beginning with: \r\n",
    "integer": b":-9223372036854775808\r\n",
    "bulk": bulk("hello"),
    "bulk-empty-and-null": b"$0\r\n\r\n$-1\r\n",
    "bulk-binary": bulk(A2),
    "array": resp_array(bulk("foo"), b":1\r\n", b"*-1\r\n", resp_array(b"+a\r\n", b"*0\r\n")),
    "null": b"_\r\n",
    "double": b",3.14\r\n,-1.5e3\r\n,inf\r\n,-inf\r\n,nan\r\n",
    "boolean": b"#t\r\n#f\r\n",
    "big-number": b"(3492890328409238509324850943850943825024385\r\n",
    "blob-error": b"!21\r\nSYNTAX invalid syntax\r\n",
    "verbatim": b"=15\r\ntxt:Some string\r\n",
    "map": b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
    "set": b"~3\r\n+orange\r\n+apple\r\n#t\r\n",
    "attribute": b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
    "hello3": b"%7\r\n" + bulk("server") + bulk("redis") + bulk("version") + bulk("7.2.4") + bulk("proto") + b":3\r\n" + bulk("id")
    + b":5\r\n" + bulk("mode") + bulk("standalone") + bulk("role") + bulk("master") + bulk("modules") + b"*0\r\n",
    "subscribe-resp2": resp_array(bulk("psubscribe"), bulk("socket.io#/#*"), b":1\r\n")
    + resp_array(bulk("subscribe"), bulk("socket.io-request#/#"), b":2\r\n"),
    "pmessage-resp2": resp_array(bulk("pmessage"), bulk("socket.io#/#*"), bulk("socket.io#/#42#"), bulk(A2)),
    "message-resp3-push": resp_array(bulk("message"), bulk("socket.io-request#/#"), bulk(requests["1-all-rooms"]), kind=b">")
    + resp_array(bulk("pmessage"), bulk("socket.io#/#*"), bulk("socket.io#/#"), bulk(A4), kind=b">"),
    "numsub": resp_array(bulk("socket.io-request#/#"), b":3\r\n"),
    "noscript": b"-NOSCRIPT No matching script. Please use EVAL.\r\n",
}
for i, (name, data) in enumerate(replies.items()):
    write("resp", name, bytes([(i * 37) % 256]) + data)
pipeline = b"".join(replies.values())
for selector in (0, 1, 128, 254, 255):
    write("resp", f"pipeline-split{selector}", bytes([selector]) + pipeline)
