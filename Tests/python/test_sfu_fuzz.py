"""Robustness of the SFU's UDP port while real audio flows (issue: "100,000 random and mutated
datagrams sent to the worker port (truncated STUN, bad MESSAGE-INTEGRITY, DTLS garbage, RTP from
unknown tuples, SRTP with bad tags) while a tone flows: no crash, the tone still decodes, every
drop counted under a reason").

One msab server with one media worker on 127.0.0.1. Speaker A produces a 440 Hz tone, listener B
consumes it, and a third client C creates a transport it never connects: its ICE ufrag/password
let the fuzzer build binding requests that name a real transport. Then exactly ``N`` datagrams
go to the worker's one UDP port (the ``port`` of the ``transport:create`` acks' candidates):

1. ``random``: random bytes of random length 0..1500;
2. ``stun_mutated``: binding requests truncated anywhere, with lying length fields, overrunning or
   wrongly sized attributes, attributes after FINGERPRINT, trailing bytes, a bad magic cookie;
3. ``stun_auth``: well-formed binding requests naming C's transport (``<C ufrag>:<anything>``)
   that ICE-lite must refuse: wrong MESSAGE-INTEGRITY (random, wrong key, tampered after signing,
   absent), bad FINGERPRINT (with a *correct* integrity), correct integrity but no PRIORITY, a
   role conflict, an unknown comprehension-required attribute, an empty remote ufrag;
   ``stun_unknown_user``: requests naming no transport (unknown ufrag, no USERNAME, no colon,
   USERNAME not UTF-8);
4. ``stun_not_request``: well-formed STUN of every other type (indications, responses, other
   methods);
5. ``dtls``: DTLS-looking garbage (first byte 20..63);
6. ``rtp_unknown``: RTP/RTCP-looking packets (first byte 128..191; some with the real producer's
   SSRC) from tuples that never passed an ICE check;
7. ``srtp_known``: SRTP/SRTCP with broken authentication **from known tuples**: sent through the
   speaker's and the listener's own aiortc sockets (pymediasoup Transport → handler.pc
   (RTCPeerConnection) → transceiver → RTCDtlsTransport → RTCIceTransport → aioice Connection →
   nominated CandidatePair → its StunProtocol's asyncio DatagramTransport), so the server sees
   them on the tuples its ICE checks accepted, on DTLS-connected transports. They are mutated
   copies of the speaker's real SRTP packets (captured on that socket: tag bits flipped,
   ciphertext bytes flipped, tag replaced, sequence number moved ahead, truncated, extended) and
   synthesized packets with the real SSRC and a random tag.

Classes 1–6 go from four plain UDP sockets (tuples unknown to the server). The sending is paced
(bursts of ``BURST`` with a 1 ms pause, and held back while the worker socket's receive queue in
``/proc/net/udp`` is above ``RX_QUEUE_LIMIT``) so the kernel drops nothing and the tone keeps
flowing; the socket's kernel ``drops`` column is read before and after anyway.

Every datagram's drop reason is predicted from its bytes with a mirror of the server's demux
(RFC 7983 first byte + minimum lengths, STUN parse, ICE-lite checks; see SFUWorker.swift,
WebRTCTransport.swift, ICELiteServer.swift). None of them can be accepted, so afterwards:
the server is alive (``/health`` 200), the increase of ``msab_sfu_drops_total`` summed over
reasons equals the number of datagrams the worker's socket received (``N`` minus kernel drops),
each reason's increase equals its prediction, the fuzzer's sockets got exactly the STUN error
responses the refused requests call for (no success response, nothing for silent discards),
legitimate RTP still enters and leaves the SFU, and B captures ≥ 2 s of audio after the flood
that is 440 ± 5 Hz within 3 dB of the expected level.

``MSAB_FUZZ_SEED`` fixes the random seed (it is printed with the results).
"""
from __future__ import annotations

import asyncio
import collections
import hashlib
import hmac
import os
import random
import re
import socket
import struct
import time
import zlib
from typing import Any, Callable

import pytest

from msabtest import run
from msabtest.audio import dominant_frequency, expected_received_dbfs, is_tone, rms_dbfs
from msabtest.client import MsabClient
from msabtest.server import MsabServer

pytestmark = [pytest.mark.msab, pytest.mark.media]

N = 100_000
AMPLITUDE = 0.5
ROOM = "77"
BURST = 250
RX_QUEUE_LIMIT = 512 * 1024  # bytes queued on the worker socket before the fuzzer waits
RAW_SOCKETS = 4

# How the N datagrams are split between the classes of the module docstring.
CLASS_COUNTS = {
    "random": 25_000,
    "stun_mutated": 14_000,
    "stun_auth": 12_000,
    "stun_unknown_user": 4_000,
    "stun_not_request": 5_000,
    "dtls": 10_000,
    "rtp_unknown": 15_000,
    "srtp_known": 15_000,
}
assert sum(CLASS_COUNTS.values()) == N

# DropReason.description (Sources/SFU/DropReason.swift)
UNCLASSIFIABLE = "unclassifiable"
STUN_MALFORMED = "stun_malformed"
STUN_NOT_BINDING_REQUEST = "stun_not_binding_request"
STUN_UNKNOWN_USERNAME = "stun_unknown_username"
STUN_REJECTED = "stun_rejected"
UNKNOWN_TUPLE = "unknown_tuple"
SRTP_UNPROTECT_FAILED = "srtp_unprotect_failed"

# STUN (RFC 5389 / RFC 8445)
MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
ATTR_USERNAME = 0x0006
ATTR_MESSAGE_INTEGRITY = 0x0008
ATTR_PRIORITY = 0x0024
ATTR_USE_CANDIDATE = 0x0025
ATTR_SOFTWARE = 0x8022
ATTR_FINGERPRINT = 0x8028
ATTR_ICE_CONTROLLED = 0x8029
ATTR_ICE_CONTROLLING = 0x802A
FINGERPRINT_XOR = 0x5354554E

SPEAKER, LISTENER = "speaker", "listener"  # known-tuple routes; raw routes are 0..RAW_SOCKETS-1


# ----- STUN building -------------------------------------------------------------------------------


def attr(kind: int, value: bytes, length: int | None = None) -> bytes:
    """One STUN attribute, padded to 4 bytes (``length`` overrides the length field)."""
    return struct.pack("!HH", kind, len(value) if length is None else length) + value + b"\0" * (-len(value) % 4)


def header(kind: int, length: int, txid: bytes, cookie: int = MAGIC) -> bytes:
    return struct.pack("!HHI", kind, length, cookie) + txid


def add_integrity(kind: int, txid: bytes, attrs: bytes, key: bytes) -> bytes:
    """``attrs`` + MESSAGE-INTEGRITY: HMAC-SHA1 over the message with the length covering it."""
    mac = hmac.new(key, header(kind, len(attrs) + 24, txid) + attrs, hashlib.sha1).digest()
    return attrs + attr(ATTR_MESSAGE_INTEGRITY, mac)


def add_fingerprint(kind: int, txid: bytes, attrs: bytes, flip: int = 0) -> bytes:
    """``attrs`` + FINGERPRINT (CRC-32 XOR 0x5354554E), XORed with ``flip`` to break it."""
    crc = (zlib.crc32(header(kind, len(attrs) + 8, txid) + attrs) ^ FINGERPRINT_XOR ^ flip) & 0xFFFFFFFF
    return attrs + attr(ATTR_FINGERPRINT, struct.pack("!I", crc))


def message(kind: int, txid: bytes, attrs: bytes) -> bytes:
    return header(kind, len(attrs), txid) + attrs


# ----- the server's demux, mirrored (what each datagram must be counted as) -------------------------


def predict_unknown_tuple(data: bytes) -> str:
    """The drop reason of ``data`` arriving from a tuple no ICE check accepted.

    PacketClassifier (RFC 7983, with the minimum lengths) then SFUWorker.handleDatagram.
    STUN-range datagrams are parsed by :func:`predict_stun` (the generator only hands random
    bytes here when their cookie is wrong, i.e. they cannot parse).
    """
    n = len(data)
    if n < 2:
        return UNCLASSIFIABLE
    b0, b1 = data[0], data[1]
    if b0 <= 3:
        return UNCLASSIFIABLE if n < 20 else predict_stun(data)
    if 20 <= b0 <= 63:
        return UNCLASSIFIABLE if n < 13 else UNKNOWN_TUPLE
    if 128 <= b0 <= 191:
        if 192 <= b1 <= 223:
            return UNCLASSIFIABLE if n < 4 else UNKNOWN_TUPLE
        return UNCLASSIFIABLE if n < 12 else UNKNOWN_TUPLE
    return UNCLASSIFIABLE  # ZRTP 16..19, TURN channel 64..79, and everything else


def predict_stun(data: bytes) -> str:
    """Only the parse outcome: random bytes in the STUN range never carry the magic cookie."""
    if struct.unpack_from("!I", data, 4)[0] != MAGIC:
        return STUN_MALFORMED
    raise ValueError("a datagram with the magic cookie must get its reason from its generator")


# ----- datagram generators -------------------------------------------------------------------------


class Fuzzer:
    """Builds the flood plan: ``(route, bytes, predicted reason, class, expected STUN answer)``.

    ``route`` is a raw socket index or SPEAKER / LISTENER (the clients' own aiortc sockets).
    ``answer`` is ``"error"`` when ICE-lite answers the request with an error response.
    """

    def __init__(self, seed: int, ufrag: str, password: str, ssrc: int, real_rtp: list[bytes],
                 real_rtcp: list[bytes]) -> None:
        self.rng = random.Random(seed)
        self.ufrag = ufrag
        self.key = password.encode()
        self.ssrc = ssrc
        self.real_rtp = real_rtp
        self.real_rtcp = real_rtcp

    # helpers
    def rb(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    def txid(self) -> bytes:
        return self.rb(12)

    def raw(self) -> int:
        return self.rng.randrange(RAW_SOCKETS)

    def remote_ufrag(self) -> bytes:
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789+/")
                       for _ in range(self.rng.randrange(4, 33))).encode()

    def request_attrs(self, username: bytes | None, *, priority: bool = True, controlling: bool = True,
                      controlled: bool = False, use_candidate: bool = False, extra: bytes = b"") -> bytes:
        a = b""
        if username is not None:
            a += attr(ATTR_USERNAME, username)
        if controlling:
            a += attr(ATTR_ICE_CONTROLLING, self.rb(8))
        if controlled:
            a += attr(ATTR_ICE_CONTROLLED, self.rb(8))
        if priority:
            a += attr(ATTR_PRIORITY, struct.pack("!I", self.rng.getrandbits(32)))
        if use_candidate:
            a += attr(ATTR_USE_CANDIDATE, b"")
        if self.rng.random() < 0.3:
            a += attr(ATTR_SOFTWARE, self.rb(self.rng.randrange(0, 40)))
        return a + extra

    def our_username(self) -> bytes:
        return f"{self.ufrag}:".encode() + self.remote_ufrag()

    def signed_request(self, username: bytes | None = None, key: bytes | None = None,
                       fp_flip: int = 0, **kw: Any) -> tuple[bytes, bytes]:
        """A binding request with MESSAGE-INTEGRITY (``key``, default C's password) and
        FINGERPRINT; returns (datagram, txid)."""
        txid = self.txid()
        a = self.request_attrs(self.our_username() if username is None else username, **kw)
        a = add_integrity(BINDING_REQUEST, txid, a, self.key if key is None else key)
        a = add_fingerprint(BINDING_REQUEST, txid, a, fp_flip)
        return message(BINDING_REQUEST, txid, a), txid

    # 1. random bytes
    def random(self) -> tuple[Any, bytes, str, str | None]:
        while True:
            data = self.rb(self.rng.randrange(0, 1501))
            if len(data) >= 8 and data[0] <= 3 and struct.unpack_from("!I", data, 4)[0] == MAGIC:
                continue  # (2^-32) a random STUN-looking message with the real cookie: draw again
            return self.raw(), data, predict_unknown_tuple(data), None

    # 2. truncated and mutated STUN
    def stun_mutated(self) -> tuple[Any, bytes, str, str | None]:
        rng = self.rng
        full, _ = self.signed_request(use_candidate=rng.random() < 0.5)
        kind = rng.randrange(12)
        if kind <= 3:  # truncated anywhere (the header still claims the whole message)
            cut = rng.randrange(0, len(full))
            data = full[:cut]
            return self.raw(), data, predict_unknown_tuple(data) if cut < 20 else STUN_MALFORMED, None
        length = struct.unpack_from("!H", full, 2)[0]
        if kind == 4:  # length field claims more than the datagram holds
            data = full[:2] + struct.pack("!H", length + 4 * rng.randrange(1, 100)) + full[4:]
        elif kind == 5:  # length field not a multiple of 4
            data = full[:2] + struct.pack("!H", length + rng.choice([-3, -2, -1, 1, 2, 3])) + full[4:]
        elif kind == 6:  # length field shorter than the datagram (trailing attributes)
            data = full[:2] + struct.pack("!H", 4 * rng.randrange(0, length // 4)) + full[4:]
        elif kind == 7:  # trailing bytes after the message
            data = full + self.rb(rng.randrange(1, 64))
        elif kind == 8:  # an attribute whose length overruns the message
            txid = self.txid()
            a = attr(ATTR_USERNAME, self.our_username())
            # (at least 9 bytes more: with padding, fewer could still end inside the message)
            a = a[:2] + struct.pack("!H", len(a) + rng.randrange(9, 400)) + a[4:]
            data = message(BINDING_REQUEST, txid, a + attr(ATTR_PRIORITY, self.rb(4)))
        elif kind == 9:  # a fixed-size attribute of the wrong size
            txid = self.txid()
            bad = rng.choice([(ATTR_MESSAGE_INTEGRITY, 16), (ATTR_MESSAGE_INTEGRITY, 32), (ATTR_FINGERPRINT, 8),
                              (ATTR_PRIORITY, 3), (ATTR_PRIORITY, 8), (ATTR_ICE_CONTROLLING, 4),
                              (ATTR_ICE_CONTROLLED, 12), (ATTR_USE_CANDIDATE, 4)])
            a = attr(ATTR_USERNAME, self.our_username()) + attr(bad[0], self.rb(bad[1]))
            data = message(BINDING_REQUEST, txid, a)
        elif kind == 10:  # an attribute after FINGERPRINT
            txid = self.txid()
            a = add_fingerprint(BINDING_REQUEST, txid, self.request_attrs(self.our_username()))
            a += attr(rng.choice([ATTR_PRIORITY, ATTR_SOFTWARE, ATTR_FINGERPRINT]), self.rb(4))
            data = message(BINDING_REQUEST, txid, a)
        else:  # a wrong magic cookie
            cookie = MAGIC ^ (1 << rng.randrange(32))
            data = full[:4] + struct.pack("!I", cookie) + full[8:]
        return self.raw(), data, STUN_MALFORMED, None

    # 3a. well-formed requests naming C's transport that ICE-lite refuses
    def stun_auth(self) -> tuple[Any, bytes, str, str | None]:
        rng = self.rng
        kind = rng.randrange(10)
        if kind == 0:  # MESSAGE-INTEGRITY random, FINGERPRINT right → 401
            txid = self.txid()
            a = self.request_attrs(self.our_username()) + attr(ATTR_MESSAGE_INTEGRITY, self.rb(20))
            data, answer = message(BINDING_REQUEST, txid, add_fingerprint(BINDING_REQUEST, txid, a)), "error"
        elif kind == 1:  # signed with a wrong password → 401
            data, _ = self.signed_request(key=self.key + b"x" if rng.random() < 0.5 else self.rb(22))
            answer = "error"
        elif kind == 2:  # integrity right, FINGERPRINT wrong → silently discarded
            data, _ = self.signed_request(fp_flip=1 << rng.randrange(32))
            answer = None
        elif kind == 3:  # both wrong → silently discarded
            txid = self.txid()
            a = self.request_attrs(self.our_username()) + attr(ATTR_MESSAGE_INTEGRITY, self.rb(20))
            data = message(BINDING_REQUEST, txid, add_fingerprint(BINDING_REQUEST, txid, a, 1 << rng.randrange(32)))
            answer = None
        elif kind == 4:  # no MESSAGE-INTEGRITY → 400
            txid = self.txid()
            a = self.request_attrs(self.our_username())
            if rng.random() < 0.5:
                a = add_fingerprint(BINDING_REQUEST, txid, a)
            data, answer = message(BINDING_REQUEST, txid, a), "error"
        elif kind == 5:  # integrity right, PRIORITY missing → 400
            data, _ = self.signed_request(priority=False)
            answer = "error"
        elif kind == 6:  # integrity right, ICE-CONTROLLED without ICE-CONTROLLING → 487
            data, _ = self.signed_request(controlling=False, controlled=True)
            answer = "error"
        elif kind == 7:  # an unknown comprehension-required attribute → 420
            unknown = rng.choice([0x0002, 0x0007, 0x0011, 0x7F01, 0x4000 + rng.randrange(0x3000)])
            data, _ = self.signed_request(extra=attr(unknown, self.rb(rng.randrange(0, 16))))
            answer = "error"
        elif kind == 8:  # empty remote ufrag "<ufrag>:" → 401
            data, _ = self.signed_request(username=f"{self.ufrag}:".encode())
            answer = "error"
        else:  # signed, then PRIORITY changed: the integrity no longer matches → 401
            txid = self.txid()
            a = self.request_attrs(self.our_username())
            signed = add_integrity(BINDING_REQUEST, txid, a, self.key)
            at = signed.index(struct.pack("!HH", ATTR_PRIORITY, 4)) + 4
            tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]
            data = message(BINDING_REQUEST, txid, add_fingerprint(BINDING_REQUEST, txid, tampered))
            answer = "error"
        return self.raw(), data, STUN_REJECTED, answer

    # 3b. well-formed requests naming no transport of the worker
    def stun_unknown_user(self) -> tuple[Any, bytes, str, str | None]:
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0:  # an unknown ufrag
            data, _ = self.signed_request(username=self.remote_ufrag() + b":" + self.remote_ufrag())
        elif kind == 1:  # no USERNAME at all
            txid = self.txid()
            a = self.request_attrs(None)
            a = add_integrity(BINDING_REQUEST, txid, a, self.key) if rng.random() < 0.5 else a
            data = message(BINDING_REQUEST, txid, add_fingerprint(BINDING_REQUEST, txid, a))
        elif kind == 2:  # C's ufrag without the colon
            data, _ = self.signed_request(username=self.ufrag.encode())
        else:  # a USERNAME that is not UTF-8
            data, _ = self.signed_request(username=f"{self.ufrag}:".encode() + b"\xff\xfe" + self.rb(4))
        return self.raw(), data, STUN_UNKNOWN_USERNAME, None

    # 4. well-formed STUN that is not a binding request
    def stun_not_request(self) -> tuple[Any, bytes, str, str | None]:
        rng = self.rng
        kind = rng.choice([0x0011, 0x0101, 0x0111, 0x0003, 0x0004, 0x0008, 0x0016, 0x0017])
        if rng.random() < 0.3:
            # Any type whose first byte is 0..3: RFC 7983 demultiplexes only those as STUN (a type
            # of 0x0400 or more starts like ZRTP, DTLS or nothing, and is dropped as such).
            kind = rng.randrange(0x0000, 0x0400)
            if kind == BINDING_REQUEST:
                kind = 0x0011
        txid = self.txid()
        a = self.request_attrs(self.our_username() if rng.random() < 0.7 else None)
        if rng.random() < 0.5:
            a = add_integrity(kind, txid, a, self.key)
        if rng.random() < 0.7:
            a = add_fingerprint(kind, txid, a)
        return self.raw(), message(kind, txid, a), STUN_NOT_BINDING_REQUEST, None

    # 5. DTLS-looking garbage
    def dtls(self) -> tuple[Any, bytes, str, str | None]:
        rng = self.rng
        content = rng.choice([20, 21, 22, 23, 22, 22, rng.randrange(20, 64)])
        version = rng.choice([b"\xfe\xfd", b"\xfe\xff", b"\x03\x03", self.rb(2)])
        body = self.rb(rng.randrange(0, 1300))
        length = len(body) if rng.random() < 0.6 else rng.getrandbits(16)
        data = bytes([content]) + version + self.rb(8) + struct.pack("!H", length) + body
        if rng.random() < 0.05:
            data = data[:rng.randrange(1, 13)]
        return self.raw(), data, predict_unknown_tuple(data), None

    def rtp_header(self, ssrc: int, marker: bool = False, pt: int = 96) -> bytes:
        return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, self.rng.getrandbits(16),
                           self.rng.getrandbits(32), ssrc)

    def rtcp_packet(self, ssrc: int) -> bytes:
        rng = self.rng
        pt = rng.choice([200, 201, 202, 203, 205, 206])
        words = rng.randrange(1, 20)
        return struct.pack("!BBHI", 0x80 | rng.randrange(0, 32), pt, words, ssrc) + self.rb(4 * words - 4)

    # 6. RTP/RTCP-looking packets from unknown tuples
    def rtp_unknown(self) -> tuple[Any, bytes, str, str | None]:
        rng = self.rng
        ssrc = self.ssrc if rng.random() < 0.5 else rng.getrandbits(32)
        if rng.random() < 0.7:
            data = self.rtp_header(ssrc, rng.random() < 0.1, rng.choice([96, 96, 111, 0, 8, rng.randrange(128)]))
            data += self.rb(rng.randrange(0, 300))
        else:
            data = self.rtcp_packet(ssrc)
        if rng.random() < 0.2:  # an SRTP/SRTCP-sized tail
            data += self.rb(rng.choice([10, 16, 20]))
        return self.raw(), data, predict_unknown_tuple(data), None

    # 7. SRTP/SRTCP with broken authentication from the clients' own (known) tuples
    def srtp_known(self) -> tuple[Any, bytes, str, str | None]:
        rng = self.rng
        route = SPEAKER if rng.random() < 0.7 else LISTENER
        kind = rng.randrange(9)
        if kind <= 5 and self.real_rtp:
            real = bytearray(rng.choice(self.real_rtp))
            if kind == 0:  # flip bits in the tag
                for _ in range(rng.randrange(1, 4)):
                    real[len(real) - 1 - rng.randrange(16)] ^= 1 << rng.randrange(8)
            elif kind == 1:  # flip a ciphertext byte
                real[rng.randrange(12, len(real) - 16)] ^= 1 + rng.randrange(255)
            elif kind == 2:  # replace the tag
                real[-16:] = self.rb(16)
            elif kind == 3:  # move the sequence number ahead (the header is authenticated)
                seq = (struct.unpack_from("!H", real, 2)[0] + rng.randrange(1, 3000)) & 0xFFFF
                struct.pack_into("!H", real, 2, seq)
            elif kind == 4:  # truncated (at least an RTP header left)
                real = real[:max(12, len(real) - rng.randrange(1, 30))]
            else:  # extended
                real += self.rb(rng.randrange(1, 32))
            data = bytes(real)
        elif kind <= 7:  # synthesized SRTP: the real SSRC, a random payload and tag
            data = self.rtp_header(self.ssrc) + self.rb(rng.randrange(0, 200)) + self.rb(16)
        else:  # SRTCP with a random E|index and tag
            data = (self.rtcp_packet(self.ssrc) + struct.pack("!I", 0x80000000 | rng.getrandbits(31)) + self.rb(16))
        assert 128 <= data[0] <= 191 and len(data) >= 12
        return route, data, SRTP_UNPROTECT_FAILED, None

    def plan(self) -> list[tuple[Any, bytes, str, str, str | None]]:
        out: list[tuple[Any, bytes, str, str, str | None]] = []
        for name, count in CLASS_COUNTS.items():
            make: Callable[[], tuple[Any, bytes, str, str | None]] = getattr(self, name)
            for _ in range(count):
                route, data, reason, answer = make()
                out.append((route, data, reason, name, answer))
        self.rng.shuffle(out)
        return out


# ----- observation helpers -------------------------------------------------------------------------


def parse_metrics(text: str) -> tuple[dict[str, float], dict[str, float]]:
    """(drops by reason, packets by direction) from the Prometheus text of /metrics."""
    drops: dict[str, float] = {}
    packets: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r'^msab_sfu_drops_total\{[^}]*reason="([^"]+)"[^}]*\}\s+(\S+)', line)
        if m:
            drops[m.group(1)] = drops.get(m.group(1), 0.0) + float(m.group(2))
            continue
        m = re.match(r'^msab_sfu_packets_total\{[^}]*direction="([^"]+)"[^}]*\}\s+(\S+)', line)
        if m:
            packets[m.group(1)] = packets.get(m.group(1), 0.0) + float(m.group(2))
    return drops, packets


async def metrics(msab: MsabServer) -> tuple[dict[str, float], dict[str, float]]:
    status, text = await asyncio.to_thread(msab.http, "/metrics")
    assert status == 200, f"/metrics answered {status}"
    return parse_metrics(text if isinstance(text, str) else str(text))


def udp_socket_state(port: int) -> tuple[int, int] | None:
    """(rx_queue bytes, kernel drops) of the UDP socket bound to 127.0.0.1:port, from /proc/net/udp."""
    want = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    try:
        with open("/proc/net/udp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) >= 13 and fields[1] in want:
                    return int(fields[4].split(":")[1], 16), int(fields[-1])
    except OSError:
        return None
    return None


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    return {k: int(after.get(k, 0) - before.get(k, 0)) for k in sorted(set(after) | set(before))
            if after.get(k, 0) != before.get(k, 0)}


def known_tuple(transport: Any, name: str) -> tuple[Any, tuple[str, int]]:
    """The aioice StunProtocol carrying ``transport``'s media and the server address it talks to.

    pymediasoup Transport → AiortcHandler.pc (RTCPeerConnection) → transceiver → RTCDtlsTransport
    → RTCIceTransport → aioice Connection → nominated CandidatePair (component 1).
    """
    pc = transport.handler.pc
    transceivers = pc.getTransceivers()
    assert transceivers, f"{name}: the peer connection has no transceiver"
    dtls = transceivers[0].receiver.transport
    ice = dtls.transport
    connection = ice._connection
    pair = connection._nominated.get(1)
    assert pair is not None, f"{name}: aioice has no nominated pair"
    assert pair.protocol.transport is not None, f"{name}: the candidate's socket is gone"
    return pair.protocol, pair.remote_addr


# ----- the test -----------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_sfu_port_survives_a_fuzz_flood_while_a_tone_flows(msab_factory: Callable[..., MsabServer],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    t_start = time.monotonic()
    msab = msab_factory(env={"MEDIASOUP_NUM_WORKERS": "1"})
    seed = int(os.environ.get("MSAB_FUZZ_SEED") or random.SystemRandom().randrange(1 << 32))
    tokens = {"a": msab.token(801, "Speaker A", roles={ROOM: "owner"}), "b": msab.token(802, "Listener B"),
              "c": msab.token(803, "Fuzzer C")}
    report: list[str] = [f"seed {seed} (MSAB_FUZZ_SEED={seed} to replay)"]
    results: dict[str, Any] = {}

    async def body() -> None:
        a, b, c = MsabClient("A"), MsabClient("B"), MsabClient("C")
        raw: list[socket.socket] = []
        spy_restore: list[Callable[[], None]] = []
        try:
            for client, token in ((a, tokens["a"]), (b, tokens["b"]), (c, tokens["c"])):
                await client.connect(msab.url, token, transports=["websocket"])
                await client.join(ROOM)
            await b.consume_all()
            assert await a.call("seat:take", {"roomId": ROOM, "seatIndex": 0}) == {"success": True}  # the room hears seat holders
            pid = await a.produce_tone(440.0, AMPLITUDE)
            await b.wait_consumers(1, timeout=15)
            fuzz_ack = await c.request("transport:create", {"type": "consumer", "roomId": ROOM})

            ports = {cand["port"] for ack in (a.send_transport_ack, b.recv_transport_ack, fuzz_ack)
                     for cand in ack["iceCandidates"]}
            assert len(ports) == 1, f"one worker, one port expected; candidates name {ports}"
            port = ports.pop()
            server_addr = ("127.0.0.1", port)
            ufrag = fuzz_ack["iceParameters"]["usernameFragment"]
            password = fuzz_ack["iceParameters"]["password"]

            # The tone flows before anything else happens.
            pre = await b.capture(pid, 2.0, timeout=20)
            assert pre.duration >= 2.0 and is_tone(pre.tail(2.0), 440.0), \
                f"no clean tone before the flood ({pre.duration:.2f}s, {dominant_frequency(pre.tail(2.0)):.1f} Hz)"

            # The known tuples: the clients' own aiortc sockets; keep copies of A's real SRTP.
            sp_proto, sp_remote = known_tuple(a.send_transport, "speaker")
            li_proto, li_remote = known_tuple(b.recv_transport, "listener")
            assert sp_remote == server_addr and li_remote == server_addr, (sp_remote, li_remote, server_addr)
            real_rtp: collections.deque[bytes] = collections.deque(maxlen=400)
            real_rtcp: collections.deque[bytes] = collections.deque(maxlen=50)
            original_send = sp_proto.send_data

            async def spy(data: bytes, addr: tuple[str, int]) -> None:
                if len(data) >= 12 and 128 <= data[0] <= 191:
                    (real_rtcp if 192 <= data[1] <= 223 else real_rtp).append(bytes(data))
                await original_send(data, addr)

            sp_proto.send_data = spy
            spy_restore.append(lambda: setattr(sp_proto, "send_data", original_send))
            deadline = time.monotonic() + 5
            while len(real_rtp) < 100 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(real_rtp) >= 20, f"only {len(real_rtp)} real SRTP packets seen on A's socket"
            spy_restore.pop()()
            ssrc = a.producer.rtpParameters.encodings[0].ssrc
            assert ssrc == struct.unpack_from("!I", real_rtp[-1], 8)[0], "A's packets do not carry its SSRC"

            t_gen = time.monotonic()
            plan = await asyncio.to_thread(
                lambda: Fuzzer(seed, ufrag, password, ssrc, list(real_rtp), list(real_rtcp)).plan())
            gen_seconds = time.monotonic() - t_gen
            assert len(plan) == N
            predicted = collections.Counter(reason for _, _, reason, _, _ in plan)
            by_class = collections.Counter(name for _, _, _, name, _ in plan)
            answers_expected = sum(1 for p in plan if p[4] == "error")

            for _ in range(RAW_SOCKETS):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1", 0))
                s.setblocking(False)
                raw.append(s)
            answers: collections.Counter[str] = collections.Counter()

            def drain() -> None:
                for s in raw:
                    while True:
                        try:
                            data = s.recv(2048)
                        except OSError:  # BlockingIOError: nothing more queued
                            break
                        kind = struct.unpack_from("!H", data)[0] if len(data) >= 20 else -1
                        answers[{0x0101: "success", 0x0111: "error"}.get(kind, f"other:{kind:#x}")] += 1

            # Quiet baseline: what legitimate traffic alone drops (expected: nothing).
            base0, _ = await metrics(msab)
            await asyncio.sleep(1.0)
            before, packets_before = await metrics(msab)
            baseline = delta(before, base0)
            kernel_before = udp_socket_state(port)

            # The flood.
            sent = 0
            waits = 0
            retries = 0
            t0 = time.monotonic()
            flood_mark = time.monotonic()
            for i in range(0, N, BURST):
                for route, data, _, _, _ in plan[i:i + BURST]:
                    if route == SPEAKER:
                        sp_proto.transport.sendto(data, sp_remote)
                    elif route == LISTENER:
                        li_proto.transport.sendto(data, li_remote)
                    else:
                        while True:
                            try:
                                raw[route].sendto(data, server_addr)
                                break
                            except (BlockingIOError, InterruptedError):
                                retries += 1
                                await asyncio.sleep(0.001)
                    sent += 1
                drain()
                await asyncio.sleep(0.001)
                while True:
                    state = udp_socket_state(port)
                    if state is None or state[0] <= RX_QUEUE_LIMIT:
                        break
                    waits += 1
                    await asyncio.sleep(0.002)
            while sp_proto.transport.get_write_buffer_size() or li_proto.transport.get_write_buffer_size():
                await asyncio.sleep(0.005)
            flood_seconds = time.monotonic() - t0
            during = b.consumers[pid].recorder.recent(time.monotonic() - flood_mark)

            # Let the worker drain its queue and publish (every 20 ms), then count.
            deadline = time.monotonic() + 15
            while True:
                drain()
                after, _ = await metrics(msab)
                state = udp_socket_state(port)
                settled = sum(delta(after, before).values()) >= N - ((state[1] - kernel_before[1]) if state and kernel_before else 0)
                if (settled and (state is None or state[0] == 0)) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)
            drain()
            after, _ = await metrics(msab)
            kernel_after = udp_socket_state(port)
            health_status, health = await asyncio.to_thread(msab.http, "/health")

            # The tone after the flood.
            post = await b.capture(pid, 3.0, timeout=20)
            _, packets_after = await metrics(msab)

            results.update(
                port=port, sent=sent, flood_seconds=flood_seconds, gen_seconds=gen_seconds, waits=waits,
                retries=retries, predicted=dict(predicted), by_class=dict(by_class), baseline=baseline,
                drops=delta(after, before), kernel=(kernel_before, kernel_after), answers=dict(answers),
                answers_expected=answers_expected, health=(health_status, health), pre=pre, during=during,
                post=post, packets=delta(packets_after, packets_before), errors=a.errors + b.errors + c.errors,
                real=(len(real_rtp), len(real_rtcp)))
        finally:
            for restore in spy_restore:
                restore()
            for s in raw:
                s.close()
            for client in (c, b, a):
                await client.close()

    try:
        run(body(), 85)
    finally:
        alive = msab.running
        log = msab.log()
    r = results
    kernel_before, kernel_after = r["kernel"]
    kernel_drops = (kernel_after[1] - kernel_before[1]) if kernel_before and kernel_after else 0
    delivered = r["sent"] - kernel_drops
    drops_sum = sum(r["drops"].values())
    post, pre, during = r["post"], r["pre"], r["during"]
    tail = post.tail(2.0)
    freq, level = dominant_frequency(tail), rms_dbfs(tail)
    want_level = expected_received_dbfs(AMPLITUDE)
    report += [
        f"worker port {r['port']}: sent {r['sent']} datagrams in {r['flood_seconds']:.2f} s "
        f"({r['sent'] / r['flood_seconds']:.0f}/s; generated in {r['gen_seconds']:.2f} s; "
        f"{r['waits']} waits on the receive queue, {r['retries']} send retries)",
        "per class: " + ", ".join(f"{k} {v}" for k, v in r["by_class"].items()),
        f"real SRTP/SRTCP packets captured on A's socket to mutate: {r['real'][0]}/{r['real'][1]}",
        f"kernel drops on the worker socket: {kernel_drops} (rx_queue/drops before {kernel_before}, after {kernel_after})",
        f"baseline drops over 1 s before the flood: {r['baseline'] or 'none'}",
        "msab_sfu_drops_total deltas (reason: counted / predicted):",
        *(f"  {k:26s} {r['drops'].get(k, 0):7d} / {r['predicted'].get(k, 0):7d}"
          for k in sorted(set(r["drops"]) | set(r["predicted"]))),
        f"  {'sum':26s} {drops_sum:7d} / {N:7d} (delivered to the socket: {delivered})",
        f"STUN answers received by the fuzzer's sockets: {r['answers'] or 'none'} "
        f"(error answers expected: {r['answers_expected']})",
        f"msab_sfu_packets_total deltas from the flood's start to the end of the post-flood capture: {r['packets']}",
        f"/health {r['health'][0]}; server process alive: {alive}",
        f"tone before: {dominant_frequency(pre.tail(2.0)):.1f} Hz {rms_dbfs(pre.tail(2.0)):.1f} dBFS; "
        f"during the flood: {during.duration:.2f} s of audio in {r['flood_seconds']:.2f} s; "
        f"after: {post.duration:.2f} s, {freq:.1f} Hz, {level:.1f} dBFS (expected {want_level:.1f})",
        f"client errors: {r['errors'] or 'none'}",
        f"whole test: {time.monotonic() - t_start:.1f} s",
    ]
    noisy = [ln for ln in log.splitlines() if re.search(r"warn|error|critical", ln, re.I)]
    report.append(f"server log: {len(log.splitlines())} lines, {len(noisy)} at warning level or above"
                  + "".join(f"\n  {ln[:200]}" for ln in noisy[:5]))
    text = "\n".join(report)
    with capsys.disabled():
        print("\n--- SFU fuzz ---\n" + text)
    bad_lines = [ln for ln in log.splitlines() if re.search(r"fatal|crash|panic|precondition|assertion", ln, re.I)]

    assert alive and r["health"][0] == 200, f"the server died or is unhealthy\n{text}\n--- log ---\n{log[-5000:]}"
    assert not bad_lines, f"the server log has fatal lines: {bad_lines[:10]}\n{text}"
    assert r["sent"] == N
    assert r["answers"].get("success", 0) == 0, f"the server accepted a fuzzed binding request\n{text}"
    # ICE-lite answers every refused request that deserves an error response, and only those.
    assert r["answers"] == {"error": r["answers_expected"]}, f"unexpected STUN answers\n{text}"
    assert drops_sum == delivered, f"{delivered} datagrams reached the worker, {drops_sum} drops counted\n{text}"
    if kernel_drops == 0:
        assert r["drops"] == r["predicted"], f"drops by reason differ from the prediction\n{text}"
    else:  # the kernel lost some: each reason can only fall short of its prediction
        assert all(r["drops"].get(k, 0) <= v for k, v in r["predicted"].items()), text
    for reason in (UNCLASSIFIABLE, STUN_MALFORMED, STUN_NOT_BINDING_REQUEST, STUN_UNKNOWN_USERNAME, STUN_REJECTED,
                   UNKNOWN_TUPLE, SRTP_UNPROTECT_FAILED):
        assert r["drops"].get(reason, 0) > 0, f"no {reason} drop counted\n{text}"
    assert r["packets"].get("in", 0) > 0 and r["packets"].get("out", 0) > 0, \
        f"legitimate RTP stopped entering or leaving the SFU\n{text}"
    assert post.duration >= 2.0, f"only {post.duration:.2f}s of audio after the flood\n{text}"
    assert abs(freq - 440.0) <= 5.0 and is_tone(tail, 440.0), f"the tone after the flood is {freq:.1f} Hz\n{text}"
    assert abs(level - want_level) <= 3.0, f"the tone after the flood is at {level:.1f} dBFS\n{text}"
    assert r["errors"] == [], text
