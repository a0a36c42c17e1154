"""The SFU's forwarding controls with real peers (pymediasoup 1.5 + aiortc over UDP on 127.0.0.1):
A produces a 440 Hz tone, B and C each consume it on their own receive transport.

- both decode >= 2 s at 440 +- 5 Hz within 3 dB of what A sent;
- B pauses its consumer (`consumer:pause`): B's packets stop, C keeps receiving; B resumes and
  hears the tone again;
- A pauses its producer (`audio:selfMute`): forwarding stops to both; unmuting restores both;
- A's transport closes (`room:leave` closes the socket's media): both consumers close in the SFU
  and no more packets reach B or C.

Packets are counted by the receivers themselves (aiortc's inbound-rtp statistics), so a consumer
that is paused on the server but still sends would fail here.
"""
import asyncio
import time

import pytest

from msabtest.client import MsabClient
from msabtest.metrics import wait_metric
from msabtest.server import MsabServer
from test_audio_room import AMPLITUDE, check_tone

pytestmark = [pytest.mark.media]


@pytest.fixture(scope="module")
def server():
    with MsabServer.small() as s:
        yield s


async def packets_received(client: MsabClient, producer_id: str) -> int:
    report = await client.consumers[producer_id].consumer.getStats()  # aiortc's RTCRtpReceiver.getStats
    if isinstance(report, list):  # pymediasoup returns the listeners' results
        report = report[0]
    return sum(s.packetsReceived for s in report.values() if getattr(s, "type", "") == "inbound-rtp")


async def packets_during(clients, producer_id, seconds=2.0, settle=0.5):
    """Packets each client received over `seconds`, after `settle` s for packets in flight."""
    await asyncio.sleep(settle)
    before = [await packets_received(c, producer_id) for c in clients]
    await asyncio.sleep(seconds)
    after = [await packets_received(c, producer_id) for c in clients]
    counts = [a - b for a, b in zip(after, before)]
    print(f"packets in {seconds} s: " + ", ".join(f"{c.name} {n}" for c, n in zip(clients, counts)))
    return counts


async def scenario(server):
    room = "sfu-media"
    a, b, c = MsabClient("A"), MsabClient("B"), MsabClient("C")
    try:
        for client, user in ((a, 700), (b, 701), (c, 702)):
            await client.connect(server.url, server.token(user, f"User {user}"), transports=["websocket"])
            await client.join(room)
        for listener in (b, c):
            await listener.consume_all()
        assert await a.call("seat:take", {"roomId": room, "seatIndex": 0}) == {"success": True}  # the room hears seat holders
        pid = await a.produce_tone(440, AMPLITUDE)
        for listener in (b, c):
            await listener.wait_consumers(1, timeout=10)
        cb, cc = await asyncio.gather(b.capture(pid, 2.5, timeout=15), c.capture(pid, 2.5, timeout=15))
        check_tone(cb, "B")
        check_tone(cc, "C")
        flowing = await packets_during([b, c], pid)
        assert min(flowing) >= 80, f"50 packets/s expected while flowing, got {flowing} in 2 s"

        # B pauses its own consumer: only B stops.
        b_consumer = b.consumers[pid].consumer_id
        assert await c.call("consumer:pause", {"roomId": room, "consumerId": b_consumer}) == {"error": "Consumer not found"}
        assert await b.call("consumer:pause", {"roomId": room, "consumerId": b_consumer}) == {"success": True}
        paused = await packets_during([b, c], pid)
        assert paused[0] <= 1 and paused[1] >= 80, f"B paused: B got {paused[0]}, C got {paused[1]} packets in 2 s"
        check_tone(await c.capture(pid, 2.5, timeout=15), "C while B is paused")
        assert await b.call("consumer:resume", {"roomId": room, "consumerId": b_consumer}) == {"success": True}
        check_tone(await b.capture(pid, 2.5, timeout=15), "B after resume")

        # A pauses its producer: forwarding stops to both; resuming restores both.
        assert await a.call("audio:selfMute", {"roomId": room, "producerId": pid}) == {"success": True}
        muted = await packets_during([b, c], pid)
        assert max(muted) <= 1, f"producer paused, yet B/C got {muted} packets in 2 s"
        assert await a.call("audio:selfUnmute", {"roomId": room, "producerId": pid}) == {"success": True}
        cb, cc = await asyncio.gather(b.capture(pid, 2.5, timeout=15), c.capture(pid, 2.5, timeout=15))
        check_tone(cb, "B after unmute")
        check_tone(cc, "C after unmute")

        # A's transport closes: both consumers close on the server; nothing more arrives.
        await wait_metric(server, "msab_sfu_consumers", 2, timeout=10)
        await a.leave()
        await wait_metric(server, "msab_sfu_producers", 0, timeout=10)
        await wait_metric(server, "msab_sfu_consumers", 0, timeout=10)
        await wait_metric(server, "msab_sfu_transports", 2, timeout=10)
        gone = await packets_during([b, c], pid, seconds=1.5)
        assert max(gone) == 0, f"A's transport is closed, yet B/C got {gone} packets"
        for client in (a, b, c):
            assert client.errors == [], f"{client.name}: {client.errors}"
    finally:
        for client in (a, b, c):
            await client.close()


def test_pause_resume_and_close_through_the_sfu(server):
    started = time.monotonic()
    asyncio.run(asyncio.wait_for(scenario(server), 100))
    assert time.monotonic() - started < 100
