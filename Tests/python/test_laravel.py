"""Issue 6, FlyLive backend mode against the stand-in Laravel (contract §2.3, §3.8, §6.3, §7.1):
Sanctum auth, owner and manager checks, status posts, gift batches with retries, dead letter and
`gift:error`, and a SIGKILL with gifts queued losing none of them."""
import json
import os
import time
import uuid

import pytest
import socketio

from msabtest.laravel import LaravelStandIn, sanctum_token, settled_transaction_ids
from msabtest.server import MsabServer
from msabtest.sioclient import Client, refusal

OK = {"success": True}


@pytest.fixture
def laravel():
    with LaravelStandIn(internal_key="laravel-internal-key-0123456789abcdef") as standin:
        yield standin


def start(laravel, **env):
    return MsabServer.small(GIFT_BUFFER_FLUSH_INTERVAL_MS=200, **laravel.env(), **env).start()


def test_sanctum_auth_and_headers(laravel):
    server = start(laravel)
    try:
        token = laravel.user_token(11, "Sam")
        c = Client(server, "Bearer " + token)
        c.close()
        [req] = laravel.requests("auth")
        assert req.method == "POST" and req.body == b""
        assert req.header("Authorization") == f"Bearer {token}"
        assert req.header("X-Internal-Key") == laravel.internal_key
        assert req.header("Accept") == "application/json"
        assert req.header_problems == []
        # Cached for 300 s: a second connection does not ask again.
        Client(server, token).close()
        assert len(laravel.requests("auth")) == 1
        assert refusal(server, auth={"token": "99|unknown"}) == "Invalid credentials"
        # Fail closed: Laravel down means no new connections.
        laravel.fail("auth", "error", status=500)
        assert refusal(server, auth={"token": sanctum_token(12)}) == "Invalid credentials"
    finally:
        server.close()


def test_owner_and_manager_checks_and_status_posts(laravel):
    server = start(laravel)
    room = str(700 + int(time.time()) % 100)
    laravel.set_room(room, owner_id=21)
    laravel.set_role(room, 22, "admin")
    laravel.set_role(room, 23, "member")
    clients = {uid: Client(server, laravel.user_token(uid, name)) for uid, name in [(21, "Owner"), (22, "Admin"), (23, "Member")]}
    try:
        for c in clients.values():
            c.call("room:join", {"roomId": room})
        posts = laravel.wait_route("status", count=3)
        bodies = [p.json for p in laravel.requests("status")]
        assert {"is_live": True, "participant_count": 3} in bodies
        assert all(p.path == f"/api/v1/internal/rooms/{room}/status" and p.header_problems == [] for p in posts)
        o, a, m = clients[21], clients[22], clients[23]
        assert m.call("seat:assign", {"roomId": room, "userId": 23, "seatIndex": 2}) == {"success": False, "error": "Not authorized"}
        assert a.call("seat:assign", {"roomId": room, "userId": 23, "seatIndex": 2}) == {"success": False, "error": "Not authorized"}
        assert o.call("seat:assign", {"roomId": room, "userId": 23, "seatIndex": 2}) == OK
        assert o.call("seat:mute", {"roomId": room, "userId": 23}) == OK       # owner is a manager
        assert a.call("seat:unmute", {"roomId": room, "userId": 23}) == OK     # admin is a manager
        assert m.call("seat:lock", {"roomId": room, "seatIndex": 5}) == {"success": False, "error": "Not authorized"}
        # The owner lookup failing is "Authorization check failed" for owner-only actions.
        laravel.set_room("other-room", owner_id=21)
        other = Client(server, laravel.user_token(24, "Else"))
        other.call("room:join", {"roomId": "missing-room"})
        assert other.call("seat:assign", {"roomId": "missing-room", "userId": 24, "seatIndex": 1}) == \
            {"success": False, "error": "Authorization check failed"}
        other.close()
        # Leaving posts the new count.
        laravel.clear()
        m.emit("room:leave", {"roomId": room})
        [post] = laravel.wait_for(lambda r: r.route == "status" and r.json.get("participant_count") == 2)
        assert post.json == {"is_live": True, "participant_count": 2}
    finally:
        for c in clients.values():
            c.close()
        server.close()


def test_room_close_posts_ended(laravel):
    server = start(laravel, ROOM_INACTIVITY_TIMEOUT_MS=300)
    try:
        c = Client(server, laravel.user_token(31, "Solo"))
        c.call("room:join", {"roomId": "closing-room"})
        c.emit("room:leave", {"roomId": "closing-room"})
        [post] = laravel.wait_for(lambda r: r.route == "status" and "ended_at" in (r.json or {}), timeout=5)
        assert post.json["is_live"] is False and post.json["participant_count"] == 0
        assert post.json["ended_at"].endswith("Z")
        c.close()
    finally:
        server.close()


def send_gifts(server, laravel, n, room="gift-room"):
    sender = Client(server, laravel.user_token(41, "Giver"))
    rcpt = Client(server, laravel.user_token(42, "Taker"))
    sender.call("room:join", {"roomId": room})
    rcpt.call("room:join", {"roomId": room})
    for i in range(n):
        sender.emit("gift:send", {"roomId": room, "giftId": 100 + i, "recipientId": 42})
    for i in range(n):
        rcpt.wait_for("gift:received", lambda p, i=i: p["giftId"] == 100 + i)
    return sender, rcpt


def test_gift_batches_retries_and_failures(laravel):
    server = start(laravel, GIFT_MAX_RETRIES=5)
    try:
        laravel.fail("gifts", "error", times=3, status=500)
        sender, rcpt = send_gifts(server, laravel, 4)
        deadline = time.time() + 10
        while len(settled_transaction_ids(laravel)) < 4 and time.time() < deadline:
            time.sleep(0.1)
        ids = settled_transaction_ids(laravel)
        assert len(ids) == 4 and len(set(ids)) == 4, ids
        failed_attempts = [r for r in laravel.requests("gifts") if r.injected]
        assert len(failed_attempts) == 3
        ok = [r for r in laravel.requests("gifts") if not r.injected][0]
        tx = ok.json["transactions"][0]
        assert set(tx) >= {"transaction_id", "room_id", "sender_id", "recipient_id", "gift_id", "quantity", "timestamp"}
        assert "sender_socket_id" not in tx and tx["retryCount"] == 3 and tx["room_id"] == "gift-room"
        assert ok.header("Authorization") == f"Bearer {laravel.internal_key}" and ok.header_problems == []
        # A transaction Laravel reports failed reaches its sender (only) as gift:error.
        laravel.fail_gift_id(777, code=422, reason="Insufficient balance")
        sender.emit("gift:send", {"roomId": "gift-room", "giftId": 777, "recipientId": 42})
        err = sender.wait_for("gift:error", timeout=10)
        assert err["code"] == 422 and err["reason"] == "Insufficient balance" and err["transactionId"].startswith("g_")
        assert rcpt.received("gift:error") == []
        sender.close(); rcpt.close()
    finally:
        server.close()


def test_gift_reported_failed_and_dead_letter(laravel):
    server = start(laravel, GIFT_MAX_RETRIES=3)
    try:
        sender, rcpt = send_gifts(server, laravel, 1, room="dl-room")
        laravel.wait_route("gifts")
        # Every call fails: after 3 attempts the gift is dead-lettered and the sender told.
        laravel.fail("gifts", "error", status=503)
        sender.emit("gift:send", {"roomId": "dl-room", "giftId": 555, "recipientId": 42})
        err = sender.wait_for("gift:error", timeout=10)
        assert err["code"] == "PROCESSING_FAILED" and err["reason"] == "Gift processing failed after multiple attempts"
        dead = [json.loads(l) for l in open(os.path.join(server.data_dir, "gift-dead-letter.jsonl"))]
        assert [d["transaction_id"] for d in dead] == [err["transactionId"]]
        sender.close(); rcpt.close()
    finally:
        server.close()


def test_sigkill_with_gifts_queued_loses_none(laravel):
    server = start(laravel, GIFT_MAX_RETRIES=1000)
    try:
        laravel.fail("gifts", "error", status=500)
        sender, rcpt = send_gifts(server, laravel, 5, room="kill-room")
        time.sleep(0.5)
        sender.close(); rcpt.close()
        server.kill()
        laravel.reset_failures()
        laravel.clear()
        server.start()
        deadline = time.time() + 10
        while len(settled_transaction_ids(laravel)) < 5 and time.time() < deadline:
            time.sleep(0.1)
        ids = settled_transaction_ids(laravel)
        assert len(ids) == 5 and len(set(ids)) == 5, ids
        time.sleep(1)
        assert len(settled_transaction_ids(laravel)) == 5  # exactly once
    finally:
        server.close()
