"""Issue 10 point 8: graceful shutdown. SIGTERM/SIGINT stop new connections and joins, tell every room
`room:closed` (reason `server_shutdown`), flush the queued gifts, send the final status posts, and
close HTTP last; all of it within a cap (`MSAB_SHUTDOWN_TIMEOUT_MS`, 30 s by default). The stand-in
Laravel records the gift batch and the status posts."""
import signal
import time

import pytest
import requests

from msabtest.laravel import LaravelStandIn
from msabtest.metrics import wait_until
from msabtest.server import MsabServer
from msabtest.sioclient import Client, refusal


@pytest.fixture
def laravel():
    with LaravelStandIn(internal_key="laravel-internal-key-0123456789abcdef") as standin:
        yield standin


def wait(predicate, timeout, what):
    return wait_until(predicate, bool, timeout, what)


def final_status_posts(laravel, room):
    return [r for r in laravel.requests("status") if r.path.endswith(f"/rooms/{room}/status") and r.json
            and r.json.get("is_live") is False]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_closes_rooms_flushes_gifts_posts_status_then_http(laravel, sig):
    # Gifts are flushed every 60 s: the batch that arrives is the shutdown's own flush.
    server = MsabServer.small(**laravel.env(), GIFT_BUFFER_FLUSH_INTERVAL_MS=60_000).start()
    room = f"bye-{sig}"
    sender = Client(server, laravel.user_token(61, "Giver"))
    rcpt = Client(server, laravel.user_token(62, "Taker"))
    try:
        assert "seats" in sender.call("room:join", {"roomId": room})
        assert "seats" in rcpt.call("room:join", {"roomId": room})
        for i in range(3):
            sender.emit("gift:send", {"roomId": room, "giftId": 200 + i, "recipientId": 62})
        for i in range(3):
            rcpt.wait_for("gift:received", lambda p, i=i: p["giftId"] == 200 + i)
        laravel.wait_for(lambda r: r.route == "status" and (r.json or {}).get("participant_count") == 2)
        time.sleep(0.3)  # no status post of the joins is still on its way
        assert laravel.requests("gifts") == []
        # The final status post hangs 3 s: msab is then past the rooms, waiting to drain its posts before HTTP.
        laravel.fail("status", "hang", times=1, hang_seconds=3)
        signalled = time.time()
        started = time.monotonic()
        server.proc.send_signal(sig)

        for c in (sender, rcpt):
            assert c.wait_for("room:closed", timeout=5) == {"roomId": room, "reason": "server_shutdown",
                                                            "timestamp": c.received("room:closed")[0]["timestamp"]}
        [batch] = wait(lambda: [r for r in laravel.requests("gifts") if r.status], 5, "the gift batch")
        assert batch.status == 200 and sorted(t["gift_id"] for t in batch.json["transactions"]) == [200, 201, 202]
        assert len(laravel.settled) == 3
        [post] = wait(lambda: final_status_posts(laravel, room), 5, "the final status post")
        assert post.json["participant_count"] == 0 and "ended_at" in post.json
        # Both after the signal (the status poster sends as rooms close; it is drained before HTTP closes).
        assert signalled <= batch.time and signalled <= post.time

        # While it hangs: no new connections or joins, and HTTP still answers.
        assert server.proc.poll() is None
        assert refusal(server, auth={"token": laravel.user_token(63, "Late")}) == "Server shutting down"
        assert sender.call("room:join", {"roomId": "another"}) == {"error": "Server shutting down"}
        assert requests.get(server.url + "/health", timeout=2).status_code == 200

        assert server.proc.wait(20) == 0, server.log()
        elapsed = time.monotonic() - started
        print(f"shutdown with a 3 s status hang: {elapsed:.2f} s")
        assert 2.5 < elapsed < 15, elapsed  # the hang, then a prompt exit
        wait(lambda: not sender.sio.connected and not rcpt.sio.connected, 5, "the clients' disconnect")
    finally:
        sender.close()
        rcpt.close()
        server.close()


def test_shutdown_is_capped(laravel):
    server = MsabServer.small(**laravel.env(), MSAB_SHUTDOWN_TIMEOUT_MS=2000).start()
    c = Client(server, laravel.user_token(71, "Stuck"))
    try:
        assert "seats" in c.call("room:join", {"roomId": "stuck"})
        laravel.wait_route("status")
        laravel.fail("status", "hang", hang_seconds=60)  # every status post hangs (msab's own timeout is 10 s)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        c.wait_for("room:closed", timeout=5)
        server.proc.wait(20)
        elapsed = time.monotonic() - started
        print(f"capped shutdown: {elapsed:.2f} s, exit {server.proc.returncode if server.proc else None}")
        assert elapsed < 2 + 5 + 2, elapsed  # the cap, the hard-exit margin, scheduling slack
    finally:
        laravel.reset_failures()
        c.close()
        server.close()
