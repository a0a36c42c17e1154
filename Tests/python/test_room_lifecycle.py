"""Issue 5: the remaining media error strings, and the room lifecycle: an empty room closes after
the inactivity timeout and nothing of it remains (router, transports, producers, memory, fds)."""
import os
import time
import uuid

import pytest
import requests

from msabtest.metrics import metric_total, wait_until
from msabtest.server import MsabServer, rss_kb
from msabtest.rtp_params import opus_rtp_capabilities, opus_rtp_parameters
from msabtest.sioclient import Client

OPUS = opus_rtp_parameters(ssrc=4242)
CAPS = opus_rtp_capabilities()


@pytest.fixture(scope="module")
def server():
    with MsabServer.small(ROOM_INACTIVITY_TIMEOUT_MS=300) as s:
        yield s


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_value(fn, want, timeout=10):
    wait_until(fn, lambda value: value == want, timeout, f"{want}")


def test_connect_and_produce_failures(server):
    room = f"err-{uuid.uuid4().hex[:6]}"
    c = Client(server, server.token(901, "Err"))
    try:
        c.call("room:join", {"roomId": room})
        t = c.call("transport:create", {"type": "producer", "roomId": room})
        bad_algorithm = {"roomId": room, "transportId": t["id"], "dtlsParameters": {"role": "server", "fingerprints": [{"algorithm": "md5", "value": "AA"}]}}
        assert c.call("transport:connect", bad_algorithm) == {"error": "Connect failed"}
        too_short = {"roomId": room, "transportId": t["id"], "dtlsParameters": {"role": "server", "fingerprints": [{"algorithm": "sha-256", "value": "AA:BB"}]}}
        assert c.call("transport:connect", too_short) == {"error": "Connect failed"}
        sha256 = ":".join(["AB"] * 32)
        good = {"roomId": room, "transportId": t["id"], "dtlsParameters": {"role": "server", "fingerprints": [{"algorithm": "sha-256", "value": sha256}]}}
        assert c.call("transport:connect", good) == {"success": True}
        assert c.call("transport:connect", good) == {"error": "Connect failed"}  # already connected
        pcmu = {"codecs": [{"mimeType": "audio/PCMU", "payloadType": 0, "clockRate": 8000}], "encodings": [{"ssrc": 1}]}
        assert c.call("audio:produce", {"roomId": room, "transportId": t["id"], "kind": "audio", "rtpParameters": pcmu}) == {"error": "Produce failed"}
        produced = c.call("audio:produce", {"roomId": room, "transportId": t["id"], "kind": "audio", "rtpParameters": OPUS})
        assert "id" in produced
        # A device without opus cannot consume it.
        other = Client(server, server.token(902, "NoOpus"))
        other.call("room:join", {"roomId": room})
        t2 = other.call("transport:create", {"type": "consumer", "roomId": room})
        pcmu_caps = {"codecs": [{"kind": "audio", "mimeType": "audio/PCMU", "clockRate": 8000}]}
        assert other.call("audio:consume", {"roomId": room, "transportId": t2["id"], "producerId": produced["id"], "rtpCapabilities": pcmu_caps}) == {"error": "Cannot consume"}
        consumed = other.call("audio:consume", {"roomId": room, "transportId": t2["id"], "producerId": produced["id"], "rtpCapabilities": CAPS})
        assert set(consumed) == {"id", "producerId", "kind", "rtpParameters"} and consumed["kind"] == "audio"
        assert other.call("consumer:resume", {"roomId": room, "consumerId": consumed["id"]}) == {"success": True}
        other.close()
    finally:
        c.close()


def room_count(server):
    return requests.get(server.url + "/health", timeout=5).json()["rooms"]


def use_room(server, token, room):
    c = Client(server, token)
    try:
        c.call("room:join", {"roomId": room})
        t = c.call("transport:create", {"type": "producer", "roomId": room})
        c.call("transport:create", {"type": "consumer", "roomId": room})
        assert "id" in c.call("audio:produce", {"roomId": room, "transportId": t["id"], "kind": "audio", "rtpParameters": OPUS})
        c.call("seat:take", {"roomId": room, "seatIndex": 0})
        c.emit("room:leave", {"roomId": room})
        time.sleep(0.02)
    finally:
        c.close()


def test_empty_rooms_close_and_leave_nothing(server):
    token = server.token(903, "Host", ttl=3600)
    pid = server.proc.pid
    # One room: it closes after the inactivity timeout, its seats do not survive.
    use_room(server, token, "solo")
    wait_value(lambda: room_count(server), 0)
    wait_value(lambda: metric_total(server, "msab_sfu_routers"), 0)
    c = Client(server, token)
    ack = c.call("room:join", {"roomId": "solo"})
    assert ack["seats"] == [] and ack["existingProducers"] == []
    c.close()
    wait_value(lambda: room_count(server), 0)
    # 100 rooms created, used and emptied: nothing remains.
    for i in range(10):
        use_room(server, token, f"warm-{i}")
    wait_value(lambda: room_count(server), 0)
    time.sleep(0.5)
    start_rss, start_fds = rss_kb(pid), fds(pid)
    for i in range(100):
        use_room(server, token, f"room-{i}")
    wait_value(lambda: room_count(server), 0, timeout=15)
    for gauge in ("msab_sfu_routers", "msab_sfu_transports", "msab_sfu_producers", "msab_sfu_consumers"):
        wait_value(lambda: metric_total(server, gauge), 0)
    time.sleep(0.5)
    end_rss, end_fds = rss_kb(pid), fds(pid)
    print(f"100 rooms: RSS {start_rss} -> {end_rss} kB, fds {start_fds} -> {end_fds}")
    assert end_fds <= start_fds, (start_fds, end_fds)  # no socket or timer fd left behind
    assert end_rss <= start_rss * 1.10, (start_rss, end_rss)
