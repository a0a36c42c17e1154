"""First end-to-end tests against the real msab binary (skipped until it is built).

They show how the fixtures fit together: ``msab`` starts the server (stand-alone mode, tokens
minted with ``msab token``), two :class:`MsabClient` peers join a room, one produces a 440 Hz
tone, the other consumes it through msab's SFU and the received audio is measured.
"""
from __future__ import annotations

import pytest

from msabtest import run
from msabtest.audio import dominant_frequency, expected_received_dbfs, is_tone, rms_dbfs
from msabtest.client import MsabClient, MsabConnectError
from msabtest.server import MsabServer

pytestmark = [pytest.mark.msab]


def test_health_and_refused_token(msab: MsabServer) -> None:
    status, body = msab.http("/health")
    assert status == 200 and body["status"] == "ok"

    async def body_() -> None:
        c = MsabClient("intruder")
        try:
            with pytest.raises(MsabConnectError) as e:
                await c.connect(msab.url, "not-a-token", transports=["websocket"])
            assert e.value.message == "Invalid credentials"
        finally:
            await c.close()
    run(body_(), 30)


@pytest.mark.media
@pytest.mark.parametrize("transports", [["websocket"], None])
def test_tone_is_forwarded_by_the_sfu(msab: MsabServer, transports) -> None:  # type: ignore[no-untyped-def]
    alice_token = msab.token(7, "Alice", roles={"42": "owner"})
    bob_token = msab.token(8, "Bob")

    async def body() -> None:
        async with MsabClient("alice") as alice, MsabClient("bob") as bob:
            await alice.connect(msab.url, alice_token, transports=transports)
            await bob.connect(msab.url, bob_token, transports=transports)
            await alice.join("42")
            await bob.join("42")
            await bob.consume_all()
            assert await alice.call("seat:take", {"roomId": "42", "seatIndex": 0}) == {"success": True}  # the room hears seat holders
            producer_id = await alice.produce_tone(440.0, 0.5)
            await bob.wait_for("audio:newProducer", lambda d: d["producerId"] == producer_id)
            await bob.wait_consumers(1, timeout=10)
            cap = await bob.capture(producer_id, 3.0, timeout=20)
            assert cap.duration >= 3.0, f"only {cap.duration:.2f}s of audio arrived"
            tail = cap.tail(2.0)
            assert abs(dominant_frequency(tail) - 440.0) <= 5.0
            assert is_tone(tail, 440.0)
            assert abs(rms_dbfs(tail) - expected_received_dbfs(0.5)) <= 3.0
            assert alice.errors == [] and bob.errors == []
    run(body(), 90)
