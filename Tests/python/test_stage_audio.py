"""Issue 6 stage scenario with real audio: the owner seats U1, U1 speaks, an admin's mute stops
every packet on the server (U2's consumer receives nothing) and the unmute brings the tone back."""
import asyncio
import time

import pytest

from msabtest.audio import dominant_frequency
from msabtest.client import MsabClient
from msabtest.metrics import metric_total
from msabtest.server import MsabServer


@pytest.fixture(scope="module")
def server():
    with MsabServer.small() as s:
        yield s


async def stage(server):
    room = "stage-audio"
    o, a, u1, u2 = MsabClient("O"), MsabClient("A"), MsabClient("U1"), MsabClient("U2")
    try:
        await o.connect(server.url, server.token(801, "Owner", roles=[(room, "owner")]), transports=["websocket"])
        await a.connect(server.url, server.token(802, "Admin", roles=[(room, "admin")]), transports=["websocket"])
        await u1.connect(server.url, server.token(803, "U1"), transports=["websocket"])
        await u2.connect(server.url, server.token(804, "U2"), transports=["websocket"])
        for c in (o, a, u1, u2):
            await c.join(room)
        await u2.consume_all()
        assert await o.call("seat:assign", {"roomId": room, "userId": 803, "seatIndex": 3}) == {"success": True}
        pid = await u1.produce_tone(440, 0.5)
        await u2.wait_consumers(1)
        heard = await u2.capture(pid, 2.0, timeout=10)
        assert abs(dominant_frequency(heard.tail(1.5), heard.sample_rate) - 440) <= 5

        mark = u2.mark()
        assert await a.call("seat:mute", {"roomId": room, "userId": 803}) == {"success": True}
        muted = await u2.wait_for("seat:userMuted", after=mark)
        assert muted.data == {"userId": 803, "isMuted": True}
        await asyncio.sleep(0.5)  # let packets already in flight drain
        before = metric_total(server, "msab_sfu_packets_total", direction="out")
        silent = await u2.capture(pid, 1.5, timeout=2.0)
        after = metric_total(server, "msab_sfu_packets_total", direction="out")
        assert silent.frame_count == 0, f"{silent.frame_count} frames arrived while muted"
        assert after - before < 5, (before, after)  # nothing forwarded (RTCP aside)

        assert await a.call("seat:unmute", {"roomId": room, "userId": 803}) == {"success": True}
        back = await u2.capture(pid, 2.0, timeout=10)
        assert back.frame_count > 0 and abs(dominant_frequency(back.tail(1.5), back.sample_rate) - 440) <= 5

        # A muted speaker's new producer starts paused.
        assert await a.call("seat:mute", {"roomId": room, "userId": 803}) == {"success": True}
        pid2 = await u1.produce_tone(440, 0.5)
        await u2.wait_consumers(2)
        quiet = await u2.capture(pid2, 1.5, timeout=2.0)
        assert quiet.frame_count == 0
    finally:
        for c in (o, a, u1, u2):
            await c.close()


def test_moderator_mute_stops_audio_on_the_server(server):
    asyncio.run(stage(server))
