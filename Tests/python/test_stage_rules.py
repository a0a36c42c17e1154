"""Issue 11 point 4: the stage rules follow the user, not the seat. A listener (pymediasoup)
measures the level (RMS, dBFS) of a speaker's 440 Hz tone after each step:

- a user without a seat produces (accepted) but is not forwarded until they take a seat, and a
  produce racing its `seat:take` ends up heard;
- while a moderator's mute stands, nothing makes the user audible: self-unmute, leaving and
  retaking a seat, a new producer, reconnecting within the seat retention window;
- `seat:remove` and locking an occupied seat silence the speaker at once;
- `MSAB_SEATED_SPEAKERS_ONLY=false` restores the reference's "anyone with a producer is heard".
"""
import asyncio

import pytest

from msabtest.audio import expected_received_dbfs, is_tone, rms_dbfs
from msabtest.client import MsabClient
from msabtest.server import MsabServer

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

AMPLITUDE = 0.5
HEARD_DB = expected_received_dbfs(AMPLITUDE) - 6.0  # the tone arrives at about -16.5 dBFS
SILENT_DB = -60.0


@pytest.fixture(scope="module")
def server():
    with MsabServer.small() as s:
        yield s


async def level(listener: MsabClient, pid: str, seconds: float = 1.0) -> float:
    """The level (dBFS) of `pid` at the listener over the next `seconds`, after letting packets
    already in flight drain; -inf when nothing arrives at all."""
    await asyncio.sleep(0.5)
    cap = await listener.capture(pid, seconds, timeout=seconds + 1.0)
    return rms_dbfs(cap.samples) if cap.frame_count else float("-inf")


async def assert_heard(listener: MsabClient, pid: str, what: str) -> float:
    cap = await listener.capture(pid, 1.5, timeout=10)
    db = rms_dbfs(cap.tail(1.0)) if cap.frame_count else float("-inf")
    assert db > HEARD_DB and is_tone(cap.tail(1.0), 440), f"{what}: {db:.1f} dBFS, {cap.frame_count} frames"
    return db


async def assert_silent(listener: MsabClient, pid: str, what: str) -> float:
    db = await level(listener, pid)
    assert db < SILENT_DB, f"{what}: the listener hears {db:.1f} dBFS"
    return db


async def consumed(listener: MsabClient, pid: str, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if pid in listener.consumers:
            return
        if listener.errors:
            raise listener.errors[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"listener never consumed {pid}")


async def clients(server, room, *users):
    """Connected, joined clients for (user id, name, role or None); the last one consumes all."""
    out = []
    for uid, name, role in users:
        c = MsabClient(name)
        roles = [(room, role)] if role else []
        await c.connect(server.url, server.token(uid, name, roles=roles), transports=["websocket"])
        await c.join(room)
        out.append(c)
    await out[-1].consume_all()
    return out


async def close_all(*cs):
    for c in cs:
        await c.close()


def test_unseated_speaker_is_paused_until_they_take_a_seat(server):
    async def run():
        room = "stage-unseated"
        u, listener = await clients(server, room, (1101, "U", None), (1102, "L", None))
        try:
            pid = await u.produce_tone(440, AMPLITUDE)  # accepted without a seat
            await consumed(listener, pid)
            silent = await assert_silent(listener, pid, "no seat")
            assert await u.call("seat:take", {"roomId": room, "seatIndex": 2}) == {"success": True}
            heard = await assert_heard(listener, pid, "after seat:take (same producer)")
            assert await u.call("seat:leave", {"roomId": room}) == {"success": True}
            left = await assert_silent(listener, pid, "after seat:leave")
            print(f"no seat {silent:.1f} dBFS, seated {heard:.1f} dBFS, left {left:.1f} dBFS")
        finally:
            await close_all(u, listener)
    asyncio.run(run())


def test_produce_racing_seat_take_is_heard(server):
    async def run():
        room = "stage-race"
        u, listener = await clients(server, room, (1111, "U", None), (1112, "L", None))
        try:
            pid, ack = await asyncio.gather(u.produce_tone(440, AMPLITUDE),
                                            u.call("seat:take", {"roomId": room, "seatIndex": 0}))
            assert ack == {"success": True}
            await consumed(listener, pid)
            await assert_heard(listener, pid, "produce racing seat:take")
        finally:
            await close_all(u, listener)
    asyncio.run(run())


def test_moderator_mute_stands_on_every_path(server):
    async def run():
        room = "stage-mute"
        o, u, listener = await clients(server, room, (1121, "O", "owner"), (1122, "U", None), (1123, "L", None))
        u2 = None
        try:
            assert await u.call("seat:take", {"roomId": room, "seatIndex": 1}) == {"success": True}
            pid = await u.produce_tone(440, AMPLITUDE)
            await consumed(listener, pid)
            await assert_heard(listener, pid, "seated")
            assert await o.call("seat:mute", {"roomId": room, "userId": 1122}) == {"success": True}
            levels = {"muted": await assert_silent(listener, pid, "moderator-muted")}

            assert await u.call("audio:selfUnmute", {"roomId": room, "producerId": pid}) == {"success": True}
            levels["self-unmute"] = await assert_silent(listener, pid, "self-unmute under a moderator's mute")

            mark = listener.mark()
            assert await u.call("seat:leave", {"roomId": room}) == {"success": True}
            assert await u.call("audio:selfUnmute", {"roomId": room, "producerId": pid}) == {"success": True}
            assert await u.call("seat:take", {"roomId": room, "seatIndex": 4}) == {"success": True}
            retaken = await listener.wait_for("seat:updated", lambda d: d["seatIndex"] == 4, after=mark)
            assert retaken.data["isMuted"] is True
            levels["leave+retake"] = await assert_silent(listener, pid, "left and retook a seat")

            pid2 = await u.produce_tone(440, AMPLITUDE)
            await consumed(listener, pid2)
            levels["new producer"] = await assert_silent(listener, pid2, "a new producer")

            # Reconnect within the retention window: the seat comes back, and so does the mute.
            await u.close()
            u2 = MsabClient("U again")
            await u2.connect(server.url, server.token(1122, "U"), transports=["websocket"])
            ack = await u2.join(room)
            assert {"seatIndex": 4, "isMuted": True} == {k: s[k] for s in ack["seats"] if s["user"]["id"] == 1122 for k in ("seatIndex", "isMuted")}
            pid3 = await u2.produce_tone(440, AMPLITUDE)
            await u2.call("audio:selfUnmute", {"roomId": room, "producerId": pid3})
            await consumed(listener, pid3)
            levels["reconnect"] = await assert_silent(listener, pid3, "reconnected within retention")

            assert await o.call("seat:unmute", {"roomId": room, "userId": 1122}) == {"success": True}
            levels["unmuted"] = await assert_heard(listener, pid3, "after seat:unmute")
            print(", ".join(f"{k} {v:.1f} dBFS" for k, v in levels.items()))
        finally:
            await close_all(*(c for c in (o, u, u2, listener) if c is not None))
    asyncio.run(run())


def test_remove_and_lock_silence_the_speaker_at_once(server):
    async def run():
        room = "stage-remove"
        o, u, listener = await clients(server, room, (1131, "O", "owner"), (1132, "U", None), (1133, "L", None))
        try:
            assert await u.call("seat:take", {"roomId": room, "seatIndex": 3}) == {"success": True}
            pid = await u.produce_tone(440, AMPLITUDE)
            await consumed(listener, pid)
            await assert_heard(listener, pid, "seated")
            assert await o.call("seat:remove", {"roomId": room, "userId": 1132}) == {"success": True}
            removed = await assert_silent(listener, pid, "after seat:remove")

            assert await u.call("seat:take", {"roomId": room, "seatIndex": 5}) == {"success": True}
            await assert_heard(listener, pid, "seated again")
            assert await o.call("seat:lock", {"roomId": room, "seatIndex": 5}) == {"success": True}
            locked = await assert_silent(listener, pid, "after seat:lock of the occupied seat")
            # Self-unmuting does not get around it either.
            assert await u.call("audio:selfUnmute", {"roomId": room, "producerId": pid}) == {"success": True}
            await assert_silent(listener, pid, "self-unmute without a seat")
            print(f"removed {removed:.1f} dBFS, locked {locked:.1f} dBFS")
        finally:
            await close_all(o, u, listener)
    asyncio.run(run())


def test_switch_restores_the_reference_behaviour():
    async def run():
        room = "stage-switch"
        server = MsabServer.small(MSAB_SEATED_SPEAKERS_ONLY="false").start()
        try:
            o, u, listener = await clients(server, room, (1141, "O", "owner"), (1142, "U", None), (1143, "L", None))
            try:
                pid = await u.produce_tone(440, AMPLITUDE)
                await consumed(listener, pid)
                heard = await assert_heard(listener, pid, "no seat, MSAB_SEATED_SPEAKERS_ONLY=false")
                # The moderator's mute still follows the user.
                assert await u.call("seat:take", {"roomId": room, "seatIndex": 0}) == {"success": True}
                assert await o.call("seat:mute", {"roomId": room, "userId": 1142}) == {"success": True}
                assert await u.call("seat:leave", {"roomId": room}) == {"success": True}
                await assert_silent(listener, pid, "muted, then left the seat")
                print(f"unseated speaker heard at {heard:.1f} dBFS")
            finally:
                await close_all(o, u, listener)
        finally:
            server.close()
    asyncio.run(run())
