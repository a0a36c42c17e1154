"""Issue 10 point 3 and issue 11 point 5: caps and rate limits with documented errors.

- room ids: at most 128 characters, and never shaped like a socket id ("Invalid payload"), so that
  `room:join` with another socket's id cannot subscribe to that socket's private events;
- rooms per node: `MAX_ROOMS_PER_WORKER` x `MEDIASOUP_NUM_WORKERS` ("Room limit reached");
- per user, the events that broadcast to a whole room (`MSAB_ROOM_EVENTS_PER_MINUTE`,
  "Too many requests" in each event's own error shape);
- Laravel mode: refused tokens are cached briefly (counted at the stand-in Laravel), and an
  Engine.IO connection that is refused `MSAB_MAX_REFUSED_CONNECTS` times is closed.
"""
import json
import time
import uuid

import pytest
import websocket

from msabtest.laravel import LaravelStandIn, make_user, sanctum_token
from msabtest.server import MsabServer
from msabtest.sioclient import Client

INVALID = {"error": "Invalid payload"}


@pytest.fixture
def server():
    with MsabServer.small(ROOM_INACTIVITY_TIMEOUT_MS=300) as s:
        yield s


def test_room_id_length_is_capped(server):
    c = Client(server, server.token(11, "Len"))
    try:
        ok = "r" * 128
        assert "seats" in c.call("room:join", {"roomId": ok})
        assert c.call("room:join", {"roomId": "r" * 129}) == INVALID
        # Counted in UTF-16 units, as JavaScript (and Zod) count: 64 emoji are 128.
        assert c.call("room:join", {"roomId": "\U0001F600" * 65}) == INVALID
        assert c.call("seat:take", {"roomId": "r" * 129, "seatIndex": 0}) == {"success": False, "error": "Invalid payload"}
        assert c.call("transport:create", {"type": "producer", "roomId": "r" * 129}) == INVALID
        # The socket is still in its room: the refused joins left it alone.
        assert c.call("seat:take", {"roomId": ok, "seatIndex": 0}) == {"success": True}
    finally:
        c.close()


def test_a_room_id_never_addresses_a_socket(server):
    a = Client(server, server.token(21, "Alice"))
    b = Client(server, server.token(22, "Bob"))
    try:
        a_sid = a.sio.get_sid()
        assert a_sid and len(a_sid) == 20
        assert b.call("room:join", {"roomId": a_sid}) == INVALID
        # Any id in the socket-id namespace is refused, live or not.
        assert b.call("room:join", {"roomId": "A" * 20}) == INVALID
        assert b.call("room:join", {"roomId": "A" * 19}) != INVALID
        # A's private events: an `error` to A's socket (chat outside a room) and a backend-style
        # `→ user` delivery are not seen by B.
        a.emit("chat:message", {"roomId": "nowhere", "content": "hi"})
        a.wait_for("error", lambda p: p.get("message") == "Not in room")
        a.emit("gift:send", {"roomId": "nowhere", "giftId": 1, "recipientId": 22})
        a.wait_for("error", lambda p: p.get("message") == "Not in room" and len(a.received("error")) == 2)
        time.sleep(0.3)
        assert b.received("error") == [], b.events
    finally:
        a.close()
        b.close()


def test_rooms_per_node_are_capped():
    s = MsabServer.small(MAX_ROOMS_PER_WORKER=2, MEDIASOUP_NUM_WORKERS=1, ROOM_INACTIVITY_TIMEOUT_MS=300).start()
    clients = []
    try:
        c1, c2, c3 = (Client(s, s.token(30 + i, f"U{i}")) for i in range(3))
        clients += [c1, c2, c3]
        assert "seats" in c1.call("room:join", {"roomId": "cap-1"})
        assert "seats" in c2.call("room:join", {"roomId": "cap-2"})
        assert c3.call("room:join", {"roomId": "cap-3"}) == {"error": "Room limit reached"}
        assert "seats" in c3.call("room:join", {"roomId": "cap-1"})  # an open room still takes members
        # Once a room closes (empty and inactive) a new one can open.
        c2.emit("room:leave", {"roomId": "cap-2"})
        deadline = time.time() + 10
        while True:
            ack = c2.call("room:join", {"roomId": "cap-3"})
            if "seats" in ack or time.time() > deadline:
                break
            assert ack == {"error": "Room limit reached"}
            time.sleep(0.2)
        assert "seats" in ack, ack
    finally:
        for c in clients:
            c.close()
        s.close()


def test_room_broadcast_events_are_rate_limited_per_user():
    s = MsabServer.small(MSAB_ROOM_EVENTS_PER_MINUTE=6).start()
    spammer = Client(s, s.token(41, "Spam", roles=[("rl", "owner")]))
    other = Client(s, s.token(42, "Other"))
    try:
        assert "seats" in spammer.call("room:join", {"roomId": "rl"})        # 1
        assert "seats" in other.call("room:join", {"roomId": "rl"})
        assert spammer.call("seat:take", {"roomId": "rl", "seatIndex": 0}) == {"success": True}    # 2
        assert spammer.call("seat:lock", {"roomId": "rl", "seatIndex": 5}) == {"success": True}    # 3
        assert spammer.call("seat:unlock", {"roomId": "rl", "seatIndex": 5}) == {"success": True}  # 4
        pid = str(uuid.uuid4())
        assert spammer.call("audio:selfMute", {"roomId": "rl", "producerId": pid}) == {"error": "Producer not found"}  # 5
        spammer.emit("gift:prepare", {"roomId": "rl", "giftId": 1, "recipientId": 42})         # 6
        other.wait_for("gift:prepare")
        # The budget is spent: each event answers in its own error shape, and nothing reaches the room.
        other.clear()
        assert spammer.call("seat:lock", {"roomId": "rl", "seatIndex": 6}) == {"success": False, "error": "Too many requests"}
        assert spammer.call("audio:selfUnmute", {"roomId": "rl", "producerId": pid}) == {"error": "Too many requests"}
        assert spammer.call("audio:produce", {"roomId": "rl", "transportId": str(uuid.uuid4()), "kind": "audio",
                                              "rtpParameters": {"codecs": []}}) == {"error": "Too many requests"}
        assert spammer.call("room:join", {"roomId": "rl"}) == {"error": "Too many requests"}
        spammer.emit("gift:prepare", {"roomId": "rl", "giftId": 1, "recipientId": 42})
        assert spammer.wait_for("error", lambda p: p.get("message") == "Too many requests") == {"message": "Too many requests"}
        # Events that do not broadcast to the room are not counted.
        assert "id" in spammer.call("transport:create", {"type": "producer", "roomId": "rl"})
        assert spammer.call("msab:echo", {"x": 1}) == {"x": 1}
        time.sleep(0.3)
        assert [e for e, _ in other.events if e in ("seat:locked", "gift:prepare", "room:userJoined")] == [], other.events
        # Another user has a budget of their own.
        assert other.call("seat:take", {"roomId": "rl", "seatIndex": 1}) == {"success": True}
    finally:
        spammer.close()
        other.close()
        s.close()


@pytest.fixture
def laravel():
    with LaravelStandIn(internal_key="laravel-internal-key-0123456789abcdef") as standin:
        yield standin


class RawSocket:
    """One Engine.IO WebSocket session driven by hand, so that several Socket.IO CONNECTs can be
    made on it (python-socketio drops the session after a refusal)."""

    def __init__(self, server):
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
                                              timeout=10, header=[f"Origin: {server.url}"])
        assert self.ws.recv().startswith("0{")

    def connect(self, token):
        """Sends CONNECT; returns the server's answer packet (`40{sid}` or `44{message}`)."""
        self.ws.send("40" + json.dumps({"token": token}))
        while True:
            packet = self.ws.recv()
            if packet != "2":  # skip pings
                return packet
            self.ws.send("3")

    def closed(self, timeout=5):
        """True when the server closes the session (a close packet, then the WebSocket close)."""
        self.ws.settimeout(timeout)
        try:
            while True:
                packet = self.ws.recv()
                if packet in ("", "1") or packet is None:
                    return True
        except websocket.WebSocketConnectionClosedException:
            return True
        except websocket.WebSocketTimeoutException:
            return False

    def close(self):
        self.ws.close()


def test_refused_tokens_are_cached_and_a_connection_refused_repeatedly_is_closed(laravel):
    s = MsabServer.small(**laravel.env(), MSAB_MAX_REFUSED_CONNECTS=5).start()
    try:
        refused = '44{"message":"Invalid credentials"}'
        # The same bad token five times on one connection: one call to Laravel, then the connection closes.
        raw = RawSocket(s)
        bad = sanctum_token(7)
        for _ in range(5):
            assert raw.connect(bad) == refused
        assert raw.closed()
        raw.close()
        assert len(laravel.requests("auth")) == 1
        # Cached across connections too.
        raw = RawSocket(s)
        assert raw.connect(bad) == refused
        assert len(laravel.requests("auth")) == 1
        raw.close()

        # Distinct bad tokens each cost a call, and the connection is closed after five refusals.
        laravel.clear()
        raw = RawSocket(s)
        for i in range(5):
            assert raw.connect(sanctum_token(100 + i)) == refused
        assert raw.closed()
        raw.close()
        assert len(laravel.requests("auth")) == 5

        # Fewer refusals than the limit leave the connection open for a good token.
        good = sanctum_token(8)
        laravel.add_user(good, make_user(8, "Good"))
        raw = RawSocket(s)
        for _ in range(4):
            assert raw.connect(bad) == refused
        assert raw.connect(good).startswith('40{"sid":')
        assert not raw.closed(timeout=0.5)
        raw.close()

        # Laravel failing (5xx) is not cached: the token works as soon as Laravel is back.
        token = sanctum_token(9)
        laravel.add_user(token, make_user(9, "Later"))
        laravel.fail("auth", "error", status=500)
        raw = RawSocket(s)
        assert raw.connect(token) == refused
        laravel.reset_failures()
        assert raw.connect(token).startswith('40{"sid":')
        raw.close()
    finally:
        s.close()
