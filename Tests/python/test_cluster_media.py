"""A room's audio across msab nodes (issue 13 item 3): one redis-server, two msab nodes on
loopback (msabtest/cluster.py), pymediasoup clients spread over them.

A listener on node 1 who consumes a speaker on node 0 makes node 1 ask node 0 over Redis for a
pipe (``msab:pipe:{node}``); node 0's SFU then sends the speaker's RTP to node 1's over an SRTP
pipe transport, shared by every node-1 listener of that speaker. The tests check what clients
see: the speaker in ``existingProducers`` / ``audio:newProducer`` on both nodes, a 440 Hz tone
on both nodes, ``audio:producerClosed`` exactly once on node 1 when the speaker leaves or when
node 0 dies, and node 1's SFU left with no consumers once the pipe has no listener.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest

from msabtest.audio import dominant_frequency, is_tone
from msabtest.metrics import metric, wait_metric

pytestmark = [pytest.mark.msab, pytest.mark.media, pytest.mark.timeout(150)]

SETTLE = 0.7  # what a duplicate event would need to arrive on loopback, with margin


def new_room() -> str:
    return f"xnode-{uuid.uuid4().hex[:8]}"




def assert_tone(name: str, cap: Any, frequency: float, seconds: float) -> None:
    assert cap.duration >= seconds, f"{name}: only {cap.duration:.2f}s of audio"
    tail = cap.tail(seconds - 1.0)
    assert abs(dominant_frequency(tail) - frequency) <= 5.0, f"{name}: {dominant_frequency(tail)} Hz"
    assert is_tone(tail, frequency), name


def test_listeners_on_two_nodes_hear_a_speaker_and_its_end(cluster: Any) -> None:
    # MSAB_PIPE_IP as a multi-host deployment sets it (here the loopback the nodes share).
    c = cluster(2, env={"MSAB_PIPE_IP": "127.0.0.1"})
    room = new_room()

    async def body() -> None:
        try:
            # Early listeners, one on each node, before anyone speaks: they learn of the
            # producer from `audio:newProducer` (a room broadcast that crosses nodes).
            early0 = await c.client(0, 711, "Early0")
            early1 = await c.client(1, 712, "Early1")
            for listener in (early0, early1):
                await listener.join(room)
                await listener.consume_all()
            alice = await c.client(0, 701, "Alice", {room: "owner"})
            await alice.join(room)
            assert await alice.call("seat:take", {"roomId": room, "seatIndex": 0}) == {"success": True}
            producer = await alice.produce_tone(440.0, 0.5)

            # A late listener on node 1: the join ack (cluster-wide) lists Alice's producer.
            late1 = await c.client(1, 713, "Late1")
            ack = await late1.join(room)
            assert {"producerId": producer, "userId": 701} in [
                {k: p.get(k) for k in ("producerId", "userId")} for p in ack["existingProducers"]], ack["existingProducers"]
            await late1.consume_all()
            listeners = [early0, early1, late1]
            for listener in listeners:
                await listener.wait_consumers(1, timeout=15)

            # Hostile pipe messages on both nodes' channels (a buggy or compromised publisher):
            # garbage, oversized, a request naming a node that does not exist, a forged close of
            # Alice's producer from a node that is not hers. Nothing changes for the listeners.
            channels = c.redis_cmd("PUBSUB", "CHANNELS", "msab:pipe:*")
            assert len(channels) == 2, channels
            forged = [b"\xff\x00garbage", b"{" * 100, b" " * 70_000, json.dumps({"type": "pipe"}).encode(),
                      json.dumps({"type": "pipe", "id": "1", "from": "ghost", "room": room, "producerId": producer,
                                  "ip": "203.0.113.9", "port": 9}).encode(),
                      json.dumps({"type": "closed", "from": "ghost", "room": room, "producerId": producer}).encode(),
                      json.dumps({"type": "piped", "id": "1", "from": "ghost", "ip": "1.2.3.4", "port": 9}).encode()]
            for channel in channels:
                for body in forged:
                    c.redis_cmd("PUBLISH", channel, body)

            captures = await asyncio.gather(*(cl.capture(producer, 3.0, timeout=20) for cl in listeners))
            for listener, cap in zip(listeners, captures):
                assert_tone(listener.name, cap, 440.0, 3.0)
            # Node 1: two consumers of one copy; node 0: one consumer (+ the pipe, not counted).
            assert metric(c.nodes[1], "msab_sfu_consumers") == 2
            assert metric(c.nodes[0], "msab_sfu_consumers") == 1

            # Speaker detection: node 0 (Alice's) detects her and broadcasts to the room, so the
            # listeners on node 1 are told the same as those on node 0.
            for listener in listeners:
                await listener.wait_for("speaker:active", lambda d: d.get("userId") == 701, timeout=10)
            assert all(d.get("userId") == 701 for d in (e.data for e in early1.events_named("speaker:active")))

            # Alice leaves: each listener hears `audio:producerClosed` once, node 1 included,
            # and node 1's copy (with its consumers) is gone.
            await alice.leave()
            for listener in listeners:
                await listener.wait_for("audio:producerClosed", lambda d: d.get("producerId") == producer, timeout=10)
            await asyncio.sleep(SETTLE)
            for listener in listeners:
                closed = [e.data for e in listener.events_named("audio:producerClosed")]
                assert closed == [{"producerId": producer, "userId": 701}], f"{listener.name}: {closed}"
                assert listener.errors == [], f"{listener.name}: {listener.errors}"
            await wait_metric(c.nodes[1], "msab_sfu_consumers", 0)
            await wait_metric(c.nodes[0], "msab_sfu_consumers", 0)
        finally:
            await c.close_clients()

    c.run(body(), 140)


def test_a_dead_speaker_node_closes_its_producers_elsewhere(cluster: Any) -> None:
    ttl_ms = 1500
    c = cluster(2, env={"MSAB_NODE_TTL_MS": str(ttl_ms)})
    room = new_room()

    async def body() -> None:
        try:
            alice = await c.client(0, 801, "Alice", {room: "owner"})
            await alice.join(room)
            assert await alice.call("seat:take", {"roomId": room, "seatIndex": 0}) == {"success": True}
            producer = await alice.produce_tone(440.0, 0.5)
            ben = await c.client(1, 802, "Ben")
            await ben.join(room)
            await ben.consume_all()
            await ben.wait_consumers(1, timeout=15)
            cap = await ben.capture(producer, 2.0, timeout=20)
            assert_tone("Ben", cap, 440.0, 2.0)

            # Node 0 crashes: node 1's sweep finds its presence key gone at two sweeps (a third
            # of the TTL apart) and closes the copy of Alice's producer.
            killed = time.monotonic()
            c.nodes[0].kill()
            await ben.wait_for("audio:producerClosed", lambda d: d.get("producerId") == producer, timeout=ttl_ms / 1000 * 4 + 3)
            took = time.monotonic() - killed
            await wait_metric(c.nodes[1], "msab_sfu_consumers", 0)
            await asyncio.sleep(SETTLE)
            closed = [e.data for e in ben.events_named("audio:producerClosed")]
            assert closed == [{"producerId": producer, "userId": 801}], closed
            print(f"audio:producerClosed {took:.2f}s after the kill (TTL {ttl_ms} ms)")
        finally:
            await c.close_clients()

    c.run(body(), 140)


def test_a_moderator_on_another_node_silences_the_copy(cluster: Any) -> None:
    """The owner on node 1 mutes Alice (node 0): node 0 pauses her producer by the stage rules
    and tells node 1, whose listener hears nothing until the unmute."""
    c = cluster(2)
    room = new_room()

    async def body() -> None:
        try:
            alice = await c.client(0, 901, "Alice")
            owner = await c.client(1, 900, "Owner", {room: "owner"})
            ben = await c.client(1, 902, "Ben")
            for client in (alice, owner, ben):
                await client.join(room)
            await ben.consume_all()
            assert await alice.call("seat:take", {"roomId": room, "seatIndex": 2}) == {"success": True}
            producer = await alice.produce_tone(440.0, 0.5)
            await ben.wait_consumers(1, timeout=15)
            assert_tone("Ben", await ben.capture(producer, 2.0, timeout=20), 440.0, 2.0)

            assert await owner.call("seat:mute", {"roomId": room, "userId": 901}) == {"success": True}
            await asyncio.sleep(1.0)  # the seat change crosses to node 0, the pause back to node 1
            silent = await ben.capture(producer, 1.5, timeout=2.0)
            assert silent.frame_count == 0, f"{silent.frame_count} frames arrived while muted"

            assert await owner.call("seat:unmute", {"roomId": room, "userId": 901}) == {"success": True}
            back = await ben.capture(producer, 2.0, timeout=10)
            assert back.frame_count > 0
            assert abs(dominant_frequency(back.tail(1.5)) - 440.0) <= 5.0
            assert ben.errors == [], ben.errors

            # Ben, node 1's only listener, leaves: node 1's copy of Alice's producer goes with
            # his consumer (one pipe per producer and node, closed with its last consumer).
            assert metric(c.nodes[1], "msab_sfu_producers") == 1
            await ben.leave()
            await wait_metric(c.nodes[1], "msab_sfu_consumers", 0)
            await wait_metric(c.nodes[1], "msab_sfu_producers", 0)
            # Another listener on node 1 later: a new pipe, and the tone again.
            cara = await c.client(1, 903, "Cara")
            await cara.join(room)
            await cara.consume_all()
            await cara.wait_consumers(1, timeout=15)
            assert_tone("Cara", await cara.capture(producer, 2.0, timeout=20), 440.0, 2.0)
            assert metric(c.nodes[1], "msab_sfu_producers") == 1
        finally:
            await c.close_clients()

    c.run(body(), 140)


def speaker_views(client: Any, after: int = 0) -> list[tuple[Any, list[Any]]]:
    """``(userId, activeSpeakers)`` of each ``speaker:active`` the client got (from ``after``)."""
    return [(e.data.get("userId"), e.data.get("activeSpeakers")) for e in client.events[after:] if e.name == "speaker:active"]


def test_speaker_detection_covers_the_room_across_nodes(cluster: Any) -> None:
    """Alice (loud) speaks on node 0 and Bob (quiet) on node 1 at the same time: listeners on both
    nodes get the same `speaker:active` — both users, Alice first — instead of each node's own
    speakers only. Then Alice falls silent and both nodes' listeners see Bob alone."""
    c = cluster(2, env={"MSAB_PIPE_IP": "127.0.0.1"})
    room = new_room()
    alice_id, bob_id = 1101, 1102

    async def body() -> None:
        try:
            owner = await c.client(0, 1100, "Owner", {room: "owner"})
            await owner.join(room)
            listener0 = await c.client(0, 1111, "Listener0")
            listener1 = await c.client(1, 1112, "Listener1")
            alice = await c.client(0, alice_id, "Alice")
            bob = await c.client(1, bob_id, "Bob")
            for client in (listener0, listener1, alice, bob):
                await client.join(room)
            listeners = [listener0, listener1]
            for listener in listeners:
                await listener.consume_all()  # and each producer announced later
            assert await alice.call("seat:take", {"roomId": room, "seatIndex": 0}) == {"success": True}
            assert await bob.call("seat:take", {"roomId": room, "seatIndex": 1}) == {"success": True}
            # ~-9 dBov and ~-29 dBov (RFC 6464 levels from aiortc), both above the -55 threshold.
            alice_producer = await alice.produce_tone(440.0, 0.5)
            bob_producer = await bob.produce_tone(660.0, 0.05)
            for listener in listeners:
                await listener.wait_consumers(2, timeout=15)
            # Each listener hears both (one through a pipe): the levels below are of real audio.
            for listener in listeners:
                caps = await listener.capture_all(2.0, timeout=20)
                assert_tone(f"{listener.name}/Alice", caps[alice_producer], 440.0, 2.0)
                assert_tone(f"{listener.name}/Bob", caps[bob_producer], 660.0, 2.0)

            both = [alice_id, bob_id]
            for listener in listeners:
                hit = await listener.wait_for("speaker:active", lambda d: d.get("activeSpeakers") == both, timeout=15)
                assert hit.data["userId"] == alice_id, hit.data
                assert -127 <= hit.data["volume"] <= 0
            # Steady tones: the view holds still and is the same on both nodes (no alternating
            # per-node lists any more).
            marks = [listener.mark() for listener in listeners]
            await asyncio.sleep(3.0)
            for listener, mark in zip(listeners, marks):
                views = speaker_views(listener, mark)
                assert all(view == (alice_id, both) for view in views), f"{listener.name}: {views}"
            assert speaker_views(listener0)[-1] == speaker_views(listener1)[-1] == (alice_id, both)

            # Alice stops (digital silence; her producer stays): both nodes switch to Bob alone.
            marks = [listener.mark() for listener in listeners]
            alice.tone.amplitude = 0.0
            for listener, mark in zip(listeners, marks):
                hit = await listener.wait_for("speaker:active", lambda d: d.get("activeSpeakers") == [bob_id], timeout=10, after=mark)
                assert hit.data["userId"] == bob_id, hit.data
            await asyncio.sleep(SETTLE + 1.0)
            # The same sequence on both nodes (Alice's fading interval may list her after Bob once).
            views = [speaker_views(listener, mark) for listener, mark in zip(listeners, marks)]
            assert views[0] == views[1] and views[0][-1] == (bob_id, [bob_id]), views
            for client in (listener0, listener1, alice, bob):
                assert client.errors == [], f"{client.name}: {client.errors}"
        finally:
            await c.close_clients()

    c.run(body(), 140)
