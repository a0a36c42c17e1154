"""Self-tests of MsabClient's signalling, against a scripted Socket.IO peer (no msab needed yet).

The scripted peer is a python-socketio server that answers the contract's events (§3.1, §3.3–3.7)
with the parameters of the real pymediasoup capture in /work/shared/fixtures/pymediasoup, and
checks every payload it receives against the contract's schema (roomId a string, ids UUIDs,
dtlsParameters with role + fingerprints, rtpParameters in pymediasoup's shape, ...). It carries no
media (it is not an SFU): these tests prove that MsabClient drives pymediasoup through the exact
event sequence and payloads of the contract, records server events, and turns error acks and
refused connections into clear exceptions. Audio through a real SFU is for the msab tests.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from typing import Any

import pytest
import socketio
from aiohttp import web

from msabtest import run
from msabtest.client import MsabClient, MsabConnectError, MsabError, MsabTimeout

FIXTURES = os.environ.get("MSAB_PYMEDIASOUP_FIXTURES", "/work/shared/fixtures/pymediasoup")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def load_fixture(name: str) -> dict[str, Any]:
    path = os.path.join(FIXTURES, name)
    if not os.path.exists(path):
        pytest.skip(f"fixture {path} not available")
    with open(path) as f:
        return json.load(f)


class ScriptedMsab:
    """A Socket.IO peer speaking the contract's signalling events (no media). See module doc."""

    def __init__(self) -> None:
        self.produce_fx = load_fixture("produce-tone.json")
        self.consume_fx = load_fixture("consume.json")
        # A short ping interval ends a polling client's pending GET quickly at disconnect
        # (python-socketio's server does not answer it on the close packet).
        self.sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False,
                                        ping_interval=1, ping_timeout=1)
        self.app = web.Application()
        self.sio.attach(self.app)
        self.received: list[tuple[str, str, Any]] = []  # (sid, event, payload)
        self.problems: list[str] = []
        self.users: dict[str, int] = {}
        self.rooms: dict[str, str] = {}  # sid -> room
        self.transports: dict[str, str] = {}  # transport id -> sid
        self.producers: dict[str, int] = {}  # producer id -> user id
        self.fail_next: dict[str, str] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""
        self._register()

    def check(self, cond: bool, what: str) -> None:
        if not cond:
            self.problems.append(what)

    def transport_params(self) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "iceParameters": {"usernameFragment": "abcd1234efgh5678", "password": "0123456789abcdef0123456789abcdef",
                              "iceLite": True},
            # A candidate nobody listens on: ICE never completes, signalling does not need it.
            "iceCandidates": [{"foundation": "udpcandidate", "priority": 1076302079, "ip": "127.0.0.1",
                               "address": "127.0.0.1", "protocol": "udp", "port": 9, "type": "host"}],
            "dtlsParameters": {"role": "auto", "fingerprints": [{"algorithm": "sha-256", "value": ":".join(["AB"] * 32)}]},
        }

    def _register(self) -> None:
        sio = self.sio

        @sio.event
        async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
            token = auth.get("token") if isinstance(auth, dict) else None
            if not token:
                raise socketio.exceptions.ConnectionRefusedError("Authentication required")
            if not isinstance(token, str) or not token.startswith("user-"):
                raise socketio.exceptions.ConnectionRefusedError("Invalid credentials")
            self.users[sid] = int(token.split("-")[1])

        async def record(sid: str, event: str, data: Any) -> str | None:
            self.received.append((sid, event, data))
            fail = self.fail_next.pop(event, None)
            return fail

        @sio.on("room:join")
        async def room_join(sid: str, data: Any) -> Any:
            if fail := await record(sid, "room:join", data):
                return {"error": fail}
            if not isinstance(data, dict) or not isinstance(data.get("roomId"), str):
                return {"error": "Invalid payload"}
            room = data["roomId"]
            existing = [{"producerId": p, "userId": u} for p, u in self.producers.items()]
            self.rooms[sid] = room
            await sio.enter_room(sid, room)
            await sio.emit("room:userJoined", {"userId": self.users[sid], "user": {"id": self.users[sid]}},
                           room=room, skip_sid=sid)
            return {"rtpCapabilities": self.produce_fx["routerRtpCapabilities_given"], "participants": [],
                    "seats": [], "lockedSeats": [], "existingProducers": existing}

        @sio.on("room:leave")
        async def room_leave(sid: str, data: Any) -> None:
            await record(sid, "room:leave", data)
            self.check(isinstance(data, dict) and isinstance(data.get("roomId"), str) and data["roomId"],
                       f"room:leave payload {data!r}")
            await sio.emit("room:userLeft", {"userId": self.users[sid]}, room=data["roomId"], skip_sid=sid)
            await sio.leave_room(sid, data["roomId"])

        @sio.on("transport:create")
        async def transport_create(sid: str, data: Any) -> Any:
            if fail := await record(sid, "transport:create", data):
                return {"error": fail}
            self.check(data.get("type") in ("producer", "consumer"), f"transport:create type {data!r}")
            self.check(data.get("roomId") == self.rooms.get(sid), f"transport:create roomId {data!r}")
            params = self.transport_params()
            self.transports[params["id"]] = sid
            return params

        @sio.on("transport:connect")
        async def transport_connect(sid: str, data: Any) -> Any:
            if fail := await record(sid, "transport:connect", data):
                return {"error": fail}
            self.check(data.get("transportId") in self.transports, f"transport:connect unknown id {data!r}")
            dtls = data.get("dtlsParameters", {})
            self.check(dtls.get("role") in ("client", "server"), f"dtls role {dtls!r}")
            fps = dtls.get("fingerprints", [])
            self.check(bool(fps) and all(isinstance(f.get("algorithm"), str) and isinstance(f.get("value"), str)
                                         for f in fps), f"fingerprints {fps!r}")
            return {"success": True}

        @sio.on("audio:produce")
        async def audio_produce(sid: str, data: Any) -> Any:
            if fail := await record(sid, "audio:produce", data):
                return {"error": fail}
            self.check(UUID_RE.match(data.get("transportId", "")) is not None, f"produce transportId {data!r}")
            self.check(data.get("kind") == "audio", f"produce kind {data!r}")
            self.check(set(data) == {"roomId", "transportId", "kind", "rtpParameters"}, f"produce keys {sorted(data)}")
            rtp = data.get("rtpParameters", {})
            codec = rtp.get("codecs", [{}])[0]
            self.check(codec.get("mimeType", "").lower() == "audio/opus" and isinstance(codec.get("payloadType"), int),
                       f"produce codec {codec!r}")
            self.check(isinstance(rtp.get("encodings", [{}])[0].get("ssrc"), int), f"produce encodings {rtp!r}")
            pid = str(uuid.uuid4())
            self.producers[pid] = self.users[sid]
            await sio.emit("audio:newProducer", {"producerId": pid, "userId": self.users[sid], "kind": "audio"},
                           room=data["roomId"], skip_sid=sid)
            return {"id": pid}

        @sio.on("audio:consume")
        async def audio_consume(sid: str, data: Any) -> Any:
            if fail := await record(sid, "audio:consume", data):
                return {"error": fail}
            if data.get("producerId") not in self.producers:
                return {"error": "Cannot consume"}
            caps = data.get("rtpCapabilities", {})
            self.check(caps == self.consume_fx["device_rtpCapabilities_sent_to_server"],
                       f"consume rtpCapabilities differ from pymediasoup's: {caps!r}")
            rtp = dict(self.consume_fx["consumer_rtpParameters_from_server"])
            rtp["encodings"] = [{"ssrc": 100000 + len(self.received)}]
            return {"id": str(uuid.uuid4()), "producerId": data["producerId"], "kind": "audio", "rtpParameters": rtp}

        @sio.on("consumer:resume")
        async def consumer_resume(sid: str, data: Any) -> Any:
            if fail := await record(sid, "consumer:resume", data):
                return {"error": fail}
            self.check(UUID_RE.match(data.get("consumerId", "")) is not None, f"resume {data!r}")
            return {"success": True}

        @sio.on("seat:take")
        async def seat_take(sid: str, data: Any) -> Any:
            await record(sid, "seat:take", data)
            return {"success": False, "error": "Seat is locked"}

    async def start(self) -> "ScriptedMsab":
        self.runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def events(self, sid: str | None = None) -> list[str]:
        return [e for s, e, _ in self.received if sid is None or s == sid]


def with_server(body):  # type: ignore[no-untyped-def]
    async def wrapper() -> None:
        server = await ScriptedMsab().start()
        try:
            await body(server)
        finally:
            await server.stop()
        assert server.problems == [], server.problems
    run(wrapper(), 60)


@pytest.mark.parametrize("transports", [None, ["websocket"], ["polling"]])
def test_connect_join_and_event_recording(transports) -> None:  # type: ignore[no-untyped-def]
    async def body(server: ScriptedMsab) -> None:
        async with MsabClient("alice") as alice, MsabClient("bob") as bob:
            await alice.connect(server.url, "user-7", transports=transports)
            await bob.connect(server.url, "user-8", transports=transports)
            ack = await alice.join(42)
            assert set(ack) == {"rtpCapabilities", "participants", "seats", "lockedSeats", "existingProducers"}
            assert alice.room_id == "42" and alice.device is not None and alice.device.loaded
            mark = alice.mark()
            await bob.join("42")
            ev = await alice.wait_for("room:userJoined", lambda d: d["userId"] == 8, after=mark)
            assert ev.data == {"userId": 8, "user": {"id": 8}} and ev.index >= mark
            assert alice.events_named("room:userJoined") == [ev]
            await bob.expect_no("room:userJoined", within=0.3)  # excl. sender
            await bob.leave()
            await alice.wait_for("room:userLeft", lambda d: d["userId"] == 8)
            with pytest.raises(MsabTimeout, match="room:closed"):
                await alice.wait_for("room:closed", timeout=0.2)
            assert server.received[0][2] == {"roomId": "42"}  # room id sent as a string
    with_server(body)


def test_refused_connection_carries_the_server_message() -> None:
    async def body(server: ScriptedMsab) -> None:
        for token, auth, message in [("nope", None, "Invalid credentials"), (None, {}, "Authentication required"),
                                     (None, {"token": 12345}, "Invalid credentials")]:
            c = MsabClient("x")
            with pytest.raises(MsabConnectError) as e:
                await c.connect(server.url, token, auth=auth)
            assert e.value.message == message and e.value.error == message
            assert not c.connected
            await c.close()
    with_server(body)


def test_error_acks_raise_with_the_error_string() -> None:
    async def body(server: ScriptedMsab) -> None:
        async with MsabClient("alice") as alice:
            await alice.connect(server.url, "user-7")
            server.fail_next["room:join"] = "Internal error"
            with pytest.raises(MsabError) as e:
                await alice.join("42")
            assert e.value.error == "Internal error" and e.value.event == "room:join"
            assert e.value.ack == {"error": "Internal error"}
            with pytest.raises(MsabError, match="produce_tone|join a room first|not joined"):
                await alice.produce_tone()
            await alice.join("42")
            with pytest.raises(MsabError) as e:
                await alice.request("seat:take", {"roomId": "42", "seatIndex": 0})
            assert e.value.error == "Seat is locked" and e.value.ack == {"success": False, "error": "Seat is locked"}
            assert await alice.call("seat:take", {"roomId": "42", "seatIndex": 0}) == {"success": False, "error": "Seat is locked"}
            with pytest.raises(MsabTimeout):
                await alice.call("no:such:event", {"roomId": "42"}, timeout=0.5)
            server.fail_next["transport:create"] = "Room not found"
            with pytest.raises(MsabError, match="Room not found"):
                await alice.produce_tone()
            server.fail_next["audio:produce"] = "Transport not found"
            with pytest.raises(MsabError) as e:
                await alice.produce_tone()
            assert e.value.error == "Transport not found" and e.value.event == "audio:produce"
    with_server(body)


def test_produce_and_consume_follow_the_contract_sequence() -> None:
    async def body(server: ScriptedMsab) -> None:
        async with MsabClient("alice") as alice, MsabClient("bob") as bob, MsabClient("carol") as carol:
            for c, uid in ((alice, 7), (bob, 8), (carol, 9)):
                await c.connect(server.url, f"user-{uid}")
            await alice.join("42")
            pid = await alice.produce_tone(440, 0.5)
            assert UUID_RE.match(pid) and alice.producer_id == pid
            # bob joins after alice produced: her producer comes in existingProducers.
            ack = await bob.join("42")
            assert ack["existingProducers"] == [{"producerId": pid, "userId": 7}]
            await bob.consume_all()
            await bob.wait_consumers(1)
            assert bob.consumers[pid].user_id == 7
            # carol produces later: bob consumes her from audio:newProducer.
            await carol.join("42")
            await carol.consume_all()
            await carol.wait_consumers(1)
            pid2 = await carol.produce_tone(880, 0.5)
            await bob.wait_for("audio:newProducer", lambda d: d["producerId"] == pid2)
            await bob.wait_consumers(2)
            assert set(bob.consumers) == {pid, pid2} and bob.errors == []
            await asyncio.sleep(0.3)  # transport:connect is fire-and-forget in pymediasoup
        bob_sid = [s for s, e, d in server.received if e == "room:join"][1]
        seq = server.events(bob_sid)
        assert seq[:2] == ["room:join", "transport:create"]
        assert seq.count("audio:consume") == 2 and seq.count("consumer:resume") == 2
        assert seq.count("transport:create") == 1 and seq.count("transport:connect") == 1
        assert seq.index("audio:consume") < seq.index("consumer:resume")
        alice_sid = server.received[0][0]
        a = server.events(alice_sid)
        assert a == ["room:join", "transport:create", "transport:connect", "audio:produce"] or \
            a == ["room:join", "transport:create", "audio:produce", "transport:connect"]
        creates = [d for s, e, d in server.received if e == "transport:create"]
        assert {"type": "producer", "roomId": "42"} in creates and {"type": "consumer", "roomId": "42"} in creates
        connects = {d["transportId"]: d["dtlsParameters"]["role"] for s, e, d in server.received if e == "transport:connect"}
        roles = sorted(connects.values())
        assert "server" in roles and "client" in roles  # send transport: client is DTLS server; recv: client
        produce = next(d for s, e, d in server.received if e == "audio:produce" and s == alice_sid)
        fx = server.produce_fx["produce_event"]["rtpParameters"]
        assert set(produce["rtpParameters"]) == set(fx)
        assert [h["uri"] for h in produce["rtpParameters"]["headerExtensions"]] == [h["uri"] for h in fx["headerExtensions"]]
    with_server(body)
