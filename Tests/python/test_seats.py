"""Issue 6 seat events: every success path and error string (byte-exact, `{success}` acks), who
receives each broadcast (an observer checks what it must and must not get), invites and their
expiry, locks, roles from signed tokens only, and a 50-client race for one seat."""
import threading
import time
import uuid

import pytest

from msabtest.server import MsabServer
from msabtest.sioclient import Client, joined

INVITE_TTL_MS = 1500


@pytest.fixture(scope="module")
def server():
    with MsabServer.small(MSAB_INVITE_TTL_MS=INVITE_TTL_MS, MSAB_SEAT_RETENTION_MS=800) as s:
        yield s


@pytest.fixture
def stage(server):
    """Owner O, admin A, listeners U1, U2 and observer X, all joined to a fresh room."""
    room = f"stage-{uuid.uuid4().hex[:8]}"
    made = joined(server, room, [("O", 201, "owner"), ("A", 202, "admin"), ("U1", 203, None), ("U2", 204, None),
                                 ("X", 205, None)], settle=0.2)
    made["room"] = room
    yield made
    for key, c in made.items():
        if key != "room":
            c.close()


OK = {"success": True}


def fail(msg):
    return {"success": False, "error": msg}


def test_take_leave_and_moves(stage):
    room, u1, x = stage["room"], stage["U1"], stage["X"]
    assert u1.call("seat:take", {"roomId": room, "seatIndex": 15}) == {"success": False, "error": "Invalid payload"}
    assert u1.call("seat:take", {"roomId": room, "seatIndex": 2}) == OK
    upd = x.wait_for("seat:updated")
    assert upd["seatIndex"] == 2 and upd["user"]["id"] == 203 and upd["isMuted"] is False
    assert "email" not in upd["user"]
    assert u1.received("seat:updated") == []  # excl. sender
    assert stage["U2"].call("seat:take", {"roomId": room, "seatIndex": 2}) == fail("Seat is already taken")
    assert u1.call("seat:take", {"roomId": room, "seatIndex": 2}) == fail("Seat is already taken")
    # Moving announces the vacated seat.
    assert u1.call("seat:take", {"roomId": room, "seatIndex": 6}) == OK
    assert x.wait_for("seat:cleared", lambda p: p["seatIndex"] == 2)["userId"] == 203
    assert x.wait_for("seat:updated", lambda p: p["seatIndex"] == 6)["user"]["id"] == 203
    assert u1.call("seat:leave", {"roomId": room}) == OK
    assert x.wait_for("seat:cleared", lambda p: p["seatIndex"] == 6)["seatIndex"] == 6
    assert u1.call("seat:leave", {"roomId": room}) == fail("You are not seated")


def test_owner_only_assign_and_remove(stage):
    room, o, a, u1, x = stage["room"], stage["O"], stage["A"], stage["U1"], stage["X"]
    assert a.call("seat:assign", {"roomId": room, "userId": 203, "seatIndex": 3}) == fail("Not authorized")
    assert u1.call("seat:assign", {"roomId": room, "userId": 203, "seatIndex": 3}) == fail("Not authorized")
    assert o.call("seat:assign", {"roomId": room, "userId": 203, "seatIndex": 3}) == OK
    assert x.wait_for("seat:updated", lambda p: p["seatIndex"] == 3)["user"]["id"] == 203
    # Assigning someone else to an occupied seat evicts, and the evictee is told.
    assert o.call("seat:assign", {"roomId": room, "userId": 204, "seatIndex": 3}) == OK
    evicted = u1.wait_for("seat:cleared", lambda p: p["seatIndex"] == 3)
    assert evicted["userId"] == 203
    assert o.call("seat:remove", {"roomId": room, "userId": 203}) == fail("You are not seated")
    assert a.call("seat:remove", {"roomId": room, "userId": 204}) == fail("Not authorized")
    assert o.call("seat:remove", {"roomId": room, "userId": 204}) == OK
    assert x.wait_for("seat:cleared", lambda p: p["seatIndex"] == 3 and p.get("userId") == 204)


def test_manager_mute_lock_unlock(stage):
    room, o, a, u1, u2, x = stage["room"], stage["O"], stage["A"], stage["U1"], stage["U2"], stage["X"]
    assert a.call("seat:mute", {"roomId": room, "userId": 203}) == fail("User is not seated")
    u1.call("seat:take", {"roomId": room, "seatIndex": 4})
    assert u2.call("seat:mute", {"roomId": room, "userId": 203}) == fail("Not authorized")
    assert a.call("seat:mute", {"roomId": room, "userId": 203}) == OK
    assert a.wait_for("seat:userMuted") == {"userId": 203, "isMuted": True}  # incl. sender
    assert x.wait_for("seat:userMuted") == {"userId": 203, "isMuted": True}
    assert o.call("seat:unmute", {"roomId": room, "userId": 203}) == OK
    assert x.wait_for("seat:userMuted", lambda p: p["isMuted"] is False)
    # Lock kicks the occupant; everyone (incl. the sender) hears both.
    assert u2.call("seat:lock", {"roomId": room, "seatIndex": 4}) == fail("Not authorized")
    assert a.call("seat:lock", {"roomId": room, "seatIndex": 4}) == OK
    assert u1.wait_for("seat:cleared", lambda p: p["seatIndex"] == 4)["userId"] == 203
    assert a.wait_for("seat:locked") == {"seatIndex": 4, "isLocked": True}
    assert a.call("seat:lock", {"roomId": room, "seatIndex": 4}) == fail("Seat is already locked")
    assert u1.call("seat:take", {"roomId": room, "seatIndex": 4}) == fail("Seat is locked")
    assert o.call("seat:assign", {"roomId": room, "userId": 203, "seatIndex": 4}) == fail("Seat is locked")
    assert a.call("seat:unlock", {"roomId": room, "seatIndex": 4}) == OK
    assert x.wait_for("seat:locked", lambda p: p["isLocked"] is False) == {"seatIndex": 4, "isLocked": False}
    assert a.call("seat:unlock", {"roomId": room, "seatIndex": 4}) == fail("Seat is not locked")


def test_invites(stage):
    room, a, u1, u2, x = stage["room"], stage["A"], stage["U1"], stage["U2"], stage["X"]
    assert a.call("seat:invite", {"roomId": room, "userId": 202, "seatIndex": 5}) == fail("Cannot invite yourself")
    assert u1.call("seat:invite", {"roomId": room, "userId": 204, "seatIndex": 5}) == fail("Not authorized")
    assert a.call("seat:invite", {"roomId": room, "userId": 204, "seatIndex": 5}) == OK
    assert x.wait_for("seat:invite:pending") == {"seatIndex": 5, "isPending": True, "invitedUserId": 204}
    got = u2.wait_for("seat:invite:received")
    assert got["seatIndex"] == 5 and got["invitedBy"] == {"id": 202, "name": "A"} and got["targetUserId"] == 204
    assert got["expiresAt"] > time.time() * 1000
    assert x.received("seat:invite:received") == []
    assert a.call("seat:invite", {"roomId": room, "userId": 203, "seatIndex": 5}) == fail("Invite already pending for this seat")
    assert u1.call("seat:invite:accept", {"roomId": room, "seatIndex": 5}) == fail("No pending invite found")
    assert u2.call("seat:invite:accept", {"roomId": room}) == OK
    assert x.wait_for("seat:invite:pending", lambda p: p["isPending"] is False) == {"seatIndex": 5, "isPending": False}
    assert u2.wait_for("seat:updated", lambda p: p["seatIndex"] == 5)["user"]["id"] == 204  # incl. sender
    assert a.call("seat:invite", {"roomId": room, "userId": 203, "seatIndex": 5}) == fail("Seat is already occupied")
    # Decline.
    assert a.call("seat:invite", {"roomId": room, "userId": 203, "seatIndex": 7}) == OK
    assert u1.call("seat:invite:decline", {"roomId": room, "seatIndex": 7}) == OK
    x.wait_for("seat:invite:pending", lambda p: p["seatIndex"] == 7 and p["isPending"] is False)
    assert u1.call("seat:invite:decline", {"roomId": room, "seatIndex": 7}) == fail("No pending invite found")
    # Expiry is announced within 1 s of the TTL.
    x.clear()
    sent = time.time()
    assert a.call("seat:invite", {"roomId": room, "userId": 203, "seatIndex": 8}) == OK
    expired = x.wait_for("seat:invite:pending", lambda p: p["seatIndex"] == 8 and p["isPending"] is False, timeout=INVITE_TTL_MS / 1000 + 2)
    elapsed = time.time() - sent
    assert INVITE_TTL_MS / 1000 - 0.05 <= elapsed <= INVITE_TTL_MS / 1000 + 1.0, elapsed
    assert u1.call("seat:invite:accept", {"roomId": room, "seatIndex": 8}) == fail("No pending invite found")
    # Accepting an invite to a locked seat unlocks it.
    assert a.call("seat:lock", {"roomId": room, "seatIndex": 9}) == OK
    assert a.call("seat:invite", {"roomId": room, "userId": 203, "seatIndex": 9}) == OK
    assert u1.call("seat:invite:accept", {"roomId": room, "seatIndex": 9}) == OK
    assert x.wait_for("seat:locked", lambda p: p["seatIndex"] == 9 and p["isLocked"] is False)


def test_roles_never_come_from_the_client(stage):
    room, u1 = stage["room"], stage["U1"]
    # The reference trusted an ownerId hint on join; msab ignores it.
    u1.call("room:join", {"roomId": room, "ownerId": 203})
    assert u1.call("seat:assign", {"roomId": room, "userId": 203, "seatIndex": 1}) == fail("Not authorized")


def test_fifty_clients_race_for_one_seat(server):
    room = f"race-{uuid.uuid4().hex[:8]}"
    clients = [Client(server, server.token(1000 + i, f"R{i}")) for i in range(50)]
    try:
        for c in clients:
            c.call("room:join", {"roomId": room})
        results = [None] * 50
        barrier = threading.Barrier(50)

        def race(i):
            barrier.wait()
            results[i] = clients[i].call("seat:take", {"roomId": room, "seatIndex": 0})

        threads = [threading.Thread(target=race, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert results.count(OK) == 1
        assert results.count(fail("Seat is already taken")) == 49
    finally:
        for c in clients:
            c.close()


def test_seat_retention_across_reconnect(server):
    room = f"keep-{uuid.uuid4().hex[:8]}"
    x = Client(server, server.token(301, "Watcher"))
    s = Client(server, server.token(302, "Speaker"))
    try:
        x.call("room:join", {"roomId": room})
        s.call("room:join", {"roomId": room})
        assert s.call("seat:take", {"roomId": room, "seatIndex": 1}) == OK
        s.close()
        x.wait_for("room:userLeft", lambda p: p["userId"] == 302)
        assert not [p for p in x.received("seat:cleared") if p["seatIndex"] == 1]
        s = Client(server, server.token(302, "Speaker"))
        ack = s.call("room:join", {"roomId": room})
        assert [seat["seatIndex"] for seat in ack["seats"] if seat["user"]["id"] == 302] == [1]
        # Gone for longer than the grace: the seat is released and announced.
        s.close()
        cleared = x.wait_for("seat:cleared", lambda p: p["seatIndex"] == 1, timeout=3)
        assert cleared["userId"] == 302
    finally:
        x.close()
        s.close()
