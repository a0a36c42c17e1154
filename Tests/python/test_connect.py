"""Issue 3 acceptance against `msab serve`: python-socketio over websocket, polling and upgrade;
acks; binary round trip; every connect_error message; the heartbeat frees silent sessions."""
import json
import os
import time

import pytest
import socketio
import websocket

from msabtest.metrics import metric_total
from msabtest.server import MsabServer
from msabtest.sioclient import Client, refusal


@pytest.fixture(scope="module")
def server():
    with MsabServer.small(MSAB_PING_INTERVAL_MS=300, MSAB_PING_TIMEOUT_MS=200) as s:
        yield s


@pytest.mark.parametrize("transports", [["websocket"], ["polling"], None], ids=["websocket", "polling", "upgrade"])
def test_connect_ack_and_binary(server, transports):
    c = Client(server, server.token(7, "Alice"), transports=transports)
    try:
        assert c.call("msab:echo", {"hello": "world", "n": 42}) == {"hello": "world", "n": 42}
        blob = os.urandom(70_000) + bytes(range(256))
        reply = c.call("msab:echo", {"blob": blob, "nested": [b"\x00\x01", {"x": b"\xff"}]})
        assert reply["blob"] == blob
        assert reply["nested"] == [b"\x00\x01", {"x": b"\xff"}]
        if transports is None:
            deadline = time.time() + 5
            while c.sio.transport() != "websocket" and time.time() < deadline:
                time.sleep(0.05)
            assert c.sio.transport() == "websocket"
    finally:
        c.close()


def test_refusals_use_the_exact_messages(server):
    good = server.token(8, "Bob")
    assert refusal(server) == "Authentication required"
    assert refusal(server, auth={"token": ""}) == "Authentication required"
    assert refusal(server, auth={"token": "garbage"}) == "Invalid credentials"
    assert refusal(server, auth={"token": 12345}) == "Invalid credentials"
    assert refusal(server, auth={"token": {"nested": True}}) == "Invalid credentials"
    assert refusal(server, auth={"token": good}, headers={"Origin": "https://evil.example"}) == "Origin not allowed"
    assert refusal(server, auth={"token": good}, headers={"Origin": "https://evil.example"}, transports=("polling",)) == "Origin not allowed"
    expired = server.token(9, "Carol", ttl=1)
    time.sleep(2.1)
    assert refusal(server, auth={"token": expired}) == "Invalid credentials"
    # The Authorization header is the fallback, Bearer stripped.
    c = Client(server, None, headers={"Authorization": f"Bearer {good}", "Origin": server.url})
    c.close()
    # A refused client never took the server down: a good one still connects.
    c = Client(server, good)
    assert c.call("msab:echo", {"ok": True}) == {"ok": True}
    c.close()


def test_silent_client_is_dropped_and_freed(server):
    """A raw Engine.IO client that never answers pings is closed within pingInterval + pingTimeout."""
    token = server.token(10, "Dan")
    ws = websocket.create_connection(server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=5)
    try:
        opening = ws.recv()
        assert opening.startswith("0")
        handshake = json.loads(opening[1:])
        assert handshake["pingInterval"] == 300 and handshake["pingTimeout"] == 200
        ws.send("40" + json.dumps({"token": token}))
        reply = ws.recv()
        while reply == "2":  # a ping may come first on a slow machine; still never answered
            reply = ws.recv()
        assert reply.startswith("40{"), reply
        sessions_before = metric_total(server, "msab_engineio_sessions")
        assert sessions_before >= 1
        start = time.time()
        closed_at = None
        while time.time() - start < 3:
            try:
                frame = ws.recv()
            except (websocket.WebSocketConnectionClosedException, ConnectionResetError, OSError):
                closed_at = time.time()
                break
            if frame == "" or frame is None:
                closed_at = time.time()
                break
            # "2" is the server's ping; deliberately never answer "3".
        assert closed_at is not None, "server never closed the silent client"
        # First ping after 300 ms, then 200 ms to answer: closed by ~500 ms (+10 % and scheduling slack).
        assert closed_at - start <= (0.3 + 0.2) * 1.1 + 0.15, closed_at - start
        deadline = time.time() + 2
        while metric_total(server, "msab_engineio_sessions") >= sessions_before and time.time() < deadline:
            time.sleep(0.05)
        assert metric_total(server, "msab_engineio_sessions") < sessions_before
    finally:
        ws.close()
