"""A room spread over two media workers of one node (issue 13 item 2).

With ``MSAB_MAX_CONSUMERS_PER_WORKER=1`` and two workers, a room's second listener already gets
its transport on the other worker, whose router receives the room's producers through SRTP pipe
transports. Every listener, wherever its transport landed, must hear every speaker (440 Hz from
the first, 660 Hz from one who starts after the room has spread), see the same events as in a
one-worker room, and lose its consumers (``audio:producerClosed``) when a speaker leaves.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from msabtest import run
from msabtest.audio import dominant_frequency, is_tone
from msabtest.metrics import metric, wait_metric
from msabtest.client import MsabClient
from msabtest.server import MsabServer

pytestmark = [pytest.mark.msab, pytest.mark.media]

ROOM = "77"




def test_room_spread_over_two_workers_hears_every_speaker(msab_factory: Any) -> None:
    msab: MsabServer = msab_factory(env={"MEDIASOUP_NUM_WORKERS": "2", "MSAB_MAX_CONSUMERS_PER_WORKER": "1"})
    alice_token = msab.token(7, "Alice", roles={ROOM: "owner"})
    bob_token = msab.token(9, "Bob")
    listener_tokens = [msab.token(100 + i, f"L{i}") for i in range(3)]

    async def body() -> None:
        alice, bob = MsabClient("alice"), MsabClient("bob")
        listeners = [MsabClient(f"l{i}") for i in range(len(listener_tokens))]
        try:
            await alice.connect(msab.url, alice_token, transports=["websocket"])
            await alice.join(ROOM)
            assert await alice.call("seat:take", {"roomId": ROOM, "seatIndex": 0}) == {"success": True}
            alice_producer = await alice.produce_tone(440.0, 0.5)

            # One listener at a time, each after the worker counts were refreshed (20 ms tick):
            # the first fills worker 0 (the room's first router), the next ones go to the
            # least-loaded worker: worker 1, then worker 0 again (a tie goes to the first).
            for client, token in zip(listeners, listener_tokens):
                await client.connect(msab.url, token, transports=["websocket"])
                await client.join(ROOM)
                await client.consume_all()
                await client.wait_consumers(1, timeout=10)
                await asyncio.sleep(0.2)
            ports = {c.recv_transport_ack["iceCandidates"][0]["port"] for c in listeners}
            assert len(ports) == 2, f"all listeners landed on one worker: {ports}"

            # A speaker who starts now: his send transport goes to the least-loaded worker, the
            # second one, so his producer originates there and is piped to the first router
            # (its listeners and the room's speaker detection).
            await bob.connect(msab.url, bob_token, transports=["websocket"])
            await bob.join(ROOM)
            assert await bob.call("seat:take", {"roomId": ROOM, "seatIndex": 1}) == {"success": True}
            bob_producer = await bob.produce_tone(660.0, 0.5)
            alice_port = alice.send_transport_ack["iceCandidates"][0]["port"]
            assert bob.send_transport_ack["iceCandidates"][0]["port"] != alice_port
            for client in listeners:
                await client.wait_consumers(2, timeout=10)

            captures = await asyncio.gather(*(c.capture_all(3.0, timeout=20) for c in listeners))
            for client, caps in zip(listeners, captures):
                for producer, frequency in ((alice_producer, 440.0), (bob_producer, 660.0)):
                    cap = caps[producer]
                    assert cap.duration >= 3.0, f"{client.name}: only {cap.duration:.2f}s of {frequency} Hz"
                    tail = cap.tail(2.0)
                    assert abs(dominant_frequency(tail) - frequency) <= 5.0, f"{client.name}: {dominant_frequency(tail)} Hz"
                    assert is_tone(tail, frequency)

            # Speaker detection stays room-wide: Bob, whose producer may originate on the second
            # worker, is among the active speakers every listener is told about.
            for client in listeners:
                await client.wait_for("speaker:active", lambda d: 9 in (d.get("activeSpeakers") or []) or d.get("userId") == 9,
                                      timeout=10)

            # Alice leaves: every listener hears `audio:producerClosed`, and her consumers on both
            # workers (and the copies of her producer) are gone; Bob's stay.
            await wait_metric(msab, "msab_sfu_consumers", 2 * len(listeners))
            await alice.leave()
            for client in listeners:
                await client.wait_for("audio:producerClosed", lambda d: d.get("producerId") == alice_producer, timeout=10)
            await wait_metric(msab, "msab_sfu_consumers", len(listeners))
            caps = await asyncio.gather(*(c.capture(bob_producer, 1.0, timeout=10) for c in listeners))
            assert all(cap.duration >= 1.0 for cap in caps)
            for client in [*listeners, bob]:
                assert client.errors == [], f"{client.name}: {client.errors}"
        finally:
            for client in [alice, bob, *listeners]:
                await client.close()

    run(body(), 150)
