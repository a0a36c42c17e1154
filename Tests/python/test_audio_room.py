"""Issue 5 end to end with real peers (python-socketio + pymediasoup/aiortc over UDP on 127.0.0.1):
a speaker's 440 Hz tone reaches two listeners (one joined before, one after), speaker:active
names the speaker, leave/rejoin, and a killed listener is dropped and freed."""
import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from msabtest.audio import dominant_frequency, expected_received_dbfs, rms_dbfs
from msabtest.client import MsabClient
from msabtest.metrics import metric_total, wait_metric
from msabtest.server import MsabServer

PRIVATE = {"email", "phone", "date_of_birth", "coins", "diamonds"}
AMPLITUDE = 0.5


@pytest.fixture(scope="module")
def server():
    with MsabServer.small(MSAB_PING_INTERVAL_MS=1000, MSAB_PING_TIMEOUT_MS=1000) as s:
        yield s


def check_tone(capture, who):
    assert capture.frame_count > 0, f"{who}: no audio"
    tail = capture.tail(2.0)
    assert len(tail) >= 2.0 * capture.sample_rate * 0.95, f"{who}: only {len(tail)} samples"
    freq = dominant_frequency(tail, capture.sample_rate)
    assert abs(freq - 440) <= 5, f"{who}: dominant {freq:.1f} Hz"
    level = rms_dbfs(tail)
    assert abs(level - expected_received_dbfs(AMPLITUDE)) <= 3, f"{who}: level {level:.1f} dBFS"


async def scenario(server):
    room = "42"
    s, l1, l2 = MsabClient("S"), MsabClient("L1"), MsabClient("L2")
    try:
        await l1.connect(server.url, server.token(501, "Listener One"), transports=["websocket"])
        await l1.join(room)
        await l1.consume_all()
        await s.connect(server.url, server.token(500, "Speaker"), transports=["websocket"])
        await s.join(room)
        assert await s.call("seat:take", {"roomId": room, "seatIndex": 0}) == {"success": True}  # the room hears seat holders
        pid = await s.produce_tone(440, AMPLITUDE)
        news = await l1.wait_for("audio:newProducer", lambda p: p["producerId"] == pid, timeout=10)
        assert news.data == {"producerId": pid, "userId": 500, "kind": "audio"}
        await l1.wait_consumers(1)
        await l2.connect(server.url, server.token(502, "Listener Two"), transports=["websocket"])
        ack = await l2.join(room)
        assert [p["producerId"] for p in ack["existingProducers"]] == [pid]
        assert {p["id"] for p in ack["participants"]} == {500, 501}
        for p in ack["participants"]:
            assert not (PRIVATE & set(p))
        joined = await l1.wait_for("room:userJoined", lambda p: p["userId"] == 502)
        assert not (PRIVATE & set(joined.data["user"]))
        await l2.consume_all()
        await l2.wait_consumers(1)
        c1, c2 = await asyncio.gather(l1.capture(pid, 3.0, timeout=15), l2.capture(pid, 3.0, timeout=15))
        check_tone(c1, "L1")
        check_tone(c2, "L2")
        for listener in (l1, l2):
            active = await listener.wait_for("speaker:active", lambda p: p["userId"] == 500, timeout=10)
            assert -127 <= active.data["volume"] <= 0 and 500 in active.data["activeSpeakers"]
        await wait_metric(server, "msab_sfu_producers", 1, timeout=10)
        await wait_metric(server, "msab_sfu_consumers", 2, timeout=10)
        await wait_metric(server, "msab_sfu_transports", 3, timeout=10)

        # S leaves: producerClosed, then userLeft; the media S held is freed.
        m1 = l1.mark()
        await s.leave()
        closed = await l1.wait_for("audio:producerClosed", after=m1, timeout=10)
        assert closed.data == {"producerId": pid, "userId": 500}
        left = await l1.wait_for("room:userLeft", lambda p: p["userId"] == 500, after=m1, timeout=10)
        assert left.time >= closed.time
        await wait_metric(server, "msab_sfu_producers", 0, timeout=10)
        await wait_metric(server, "msab_sfu_consumers", 0, timeout=10)
        await wait_metric(server, "msab_sfu_transports", 2, timeout=10)

        # S comes back and produces again: both hear it again.
        s2 = MsabClient("S-again")
        await s2.connect(server.url, server.token(500, "Speaker"), transports=["websocket"])
        await s2.join(room)
        assert await s2.call("seat:take", {"roomId": room, "seatIndex": 0}) == {"success": True}
        pid2 = await s2.produce_tone(440, AMPLITUDE)
        await l1.wait_consumers(2)
        await l2.wait_consumers(2)
        c1, c2 = await asyncio.gather(l1.capture(pid2, 3.0, timeout=15), l2.capture(pid2, 3.0, timeout=15))
        check_tone(c1, "L1 again")
        check_tone(c2, "L2 again")
        await s2.close()
    finally:
        for c in (s, l1, l2):
            await c.close()


def test_speaker_and_two_listeners(server):
    asyncio.run(scenario(server))


KILLED_LISTENER = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, {path!r})
    from msabtest.client import MsabClient
    async def main():
        c = MsabClient("doomed")
        await c.connect({url!r}, {token!r}, transports=["websocket"])
        await c.join("43")
        await c.consume_all()
        await c.wait_consumers(1)
        print("READY", flush=True)
        await asyncio.sleep(3600)
    asyncio.run(main())
""")


async def killed(server):
    s, watcher = MsabClient("S"), MsabClient("W")
    proc = None
    try:
        await s.connect(server.url, server.token(600, "Speaker"), transports=["websocket"])
        await s.join("43")
        assert await s.call("seat:take", {"roomId": "43", "seatIndex": 0}) == {"success": True}
        await s.produce_tone(440, AMPLITUDE)
        await watcher.connect(server.url, server.token(601, "Watcher"), transports=["websocket"])
        await watcher.join("43")
        transports_before = metric_total(server, "msab_sfu_transports")
        script = KILLED_LISTENER.format(path=os.path.dirname(__file__), url=server.url, token=server.token(602, "Doomed"))
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
        assert line.strip() == "READY"
        await wait_metric(server, "msab_sfu_transports", transports_before + 1, timeout=10)
        mark = watcher.mark()
        proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        left = await watcher.wait_for("room:userLeft", lambda p: p["userId"] == 602, after=mark, timeout=10)
        # pingInterval 1 s + pingTimeout 1 s, with 10 % and scheduling slack.
        assert left.time - killed_at <= 2.0 * 1.1 + 0.3, left.time - killed_at
        await wait_metric(server, "msab_sfu_transports", transports_before, timeout=10)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        if proc:
            proc.wait()
        for c in (s, watcher):
            await c.close()


def test_killed_listener_is_dropped_and_freed(server):
    asyncio.run(killed(server))
