"""Issue 11 point 6: the gift journal survives torn writes and full disks.

- A partial line left by a kill -9 (in the queue journal and in the stand-alone ledger) is moved
  aside to `<file>.corrupt` at start and never merged with the next record: gifts sent after the
  restart, then another kill -9 and restart, are all settled exactly once.
- A full disk (a file-size limit, RLIMIT_FSIZE, on the msab process) during `gift:send` gives the
  sender `gift:error {code: "QUEUE_FAILED"}`, leaves no partial line, and a batch that Laravel
  accepted is not sent again when its `done` records cannot be written.
"""
import json
import os
import resource
import time

import pytest

from msabtest.laravel import LaravelStandIn, settled_transaction_ids
from msabtest.server import MsabServer
from msabtest.sioclient import Client

pytestmark = pytest.mark.timeout(120)


def lines(path):
    with open(path, "rb") as f:
        data = f.read()
    return data


def assert_whole_lines(path):
    data = lines(path)
    assert data == b"" or data.endswith(b"\n"), f"{path} ends with a partial line: {data[-80:]!r}"
    for line in data.splitlines():
        json.loads(line)  # every line is a whole record


def send(server, token, room, gift_ids):
    """Sends gifts and waits until each was accepted (broadcast to the other member)."""
    sender = Client(server, token("sender"))
    other = Client(server, token("other"))
    sender.call("room:join", {"roomId": room})
    other.call("room:join", {"roomId": room})
    for g in gift_ids:
        sender.emit("gift:send", {"roomId": room, "giftId": g, "recipientId": 2})
    for g in gift_ids:
        other.wait_for("gift:received", lambda p, g=g: p["giftId"] == g, timeout=10)
    sender.close()
    other.close()


def test_torn_lines_after_kill_are_moved_aside_and_every_gift_settles_once():
    server = MsabServer.small(GIFT_BUFFER_FLUSH_INTERVAL_MS=3_600_000).start()  # gifts stay queued
    try:
        ids = {"sender": 1, "other": 2}
        token = lambda who: server.token(ids[who], who)
        queue = os.path.join(server.data_dir, "gift-queue.jsonl")
        ledger = os.path.join(server.data_dir, "gift-ledger.jsonl")

        send(server, token, "journal-room", [101, 102, 103])
        server.kill()
        # What a kill in the middle of write(2) leaves: the first half of a record, no newline.
        whole = lines(queue).splitlines()[0]
        torn_queue = whole[: len(whole) // 2]
        torn_ledger = b'{"gift_id":999,"quantity":1,"recipient_id":2,"room_id":"journal-ro'
        with open(queue, "ab") as f:
            f.write(torn_queue)
        with open(ledger, "ab") as f:
            f.write(torn_ledger)

        # Restart (still not settling), two more gifts, another kill -9: the two must not have
        # been merged into the torn line.
        server.start()
        assert lines(queue + ".corrupt") == torn_queue + b"\n"
        assert lines(ledger + ".corrupt") == torn_ledger + b"\n"
        assert "torn last line" in server.log()
        send(server, token, "journal-room", [104, 105])
        assert_whole_lines(queue)
        server.kill()

        # Restart settling: every complete gift is in the ledger exactly once.
        server.env["GIFT_BUFFER_FLUSH_INTERVAL_MS"] = "100"
        server.start()
        deadline = time.time() + 15
        settled = []
        while time.time() < deadline:
            settled = [json.loads(l) for l in lines(ledger).splitlines()]
            if len(settled) >= 5:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # a duplicate would show up by now
        settled = [json.loads(l) for l in lines(ledger).splitlines()]
        gift_ids = sorted(g["gift_id"] for g in settled)
        assert gift_ids == [101, 102, 103, 104, 105], gift_ids
        assert len({g["transaction_id"] for g in settled}) == 5
        assert_whole_lines(ledger)
        assert_whole_lines(queue)
    finally:
        server.close()


@pytest.fixture
def laravel():
    with LaravelStandIn(internal_key="laravel-internal-key-0123456789abcdef") as standin:
        yield standin


def test_full_disk_gives_gift_error_writes_nothing_partial_and_never_resends(laravel):
    limit = 2_500  # bytes per file: the queue journal fills after about 8 gifts

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    # Batches every 2 s: the gifts below are accepted in one interval, settled in one batch, and
    # then there is no room for their `done` records.
    server = MsabServer.small(GIFT_BUFFER_FLUSH_INTERVAL_MS=2_000, **laravel.env())
    server.preexec_fn = limit_file_size
    server.start()
    try:
        tokens = {}
        for uid, name in ((1, "sender"), (2, "other")):
            tokens[name] = laravel.user_token(uid, name)
        sender, other = Client(server, tokens["sender"]), Client(server, tokens["other"])
        sender.call("room:join", {"roomId": "full-room"})
        other.call("room:join", {"roomId": "full-room"})
        accepted = 0
        error = None
        for g in range(1, 25):
            sender.emit("gift:send", {"roomId": "full-room", "giftId": g, "recipientId": 2})
            deadline = time.time() + 5
            while time.time() < deadline:
                if [p for p in other.received("gift:received") if p["giftId"] == g]:
                    accepted += 1
                    break
                if errors := sender.received("gift:error"):
                    error = errors[0]
                    break
                time.sleep(0.01)
            if error:
                break
        assert error is not None, f"{accepted} gifts accepted and no gift:error"
        assert error["code"] == "QUEUE_FAILED" and error["reason"] == "Gift could not be queued", error
        assert accepted >= 3, accepted
        assert not [p for p in other.received("gift:received") if p["giftId"] == accepted + 1]  # the refused gift was not broadcast
        queue = os.path.join(server.data_dir, "gift-queue.jsonl")
        assert_whole_lines(queue)
        assert os.path.getsize(queue) <= limit

        # Laravel gets each accepted gift once; marking them done fails (no room), yet nothing is
        # sent again over the next flushes.
        deadline = time.time() + 10
        while len(settled_transaction_ids(laravel)) < accepted and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(5)
        ids = settled_transaction_ids(laravel)
        assert len(ids) == accepted and len(set(ids)) == accepted, ids
        assert len(laravel.requests("gifts")) == 1
        assert "done records not written" in server.log()
        assert server.proc.poll() is None  # EFBIG, not SIGXFSZ
        assert_whole_lines(queue)
        print(f"{accepted} gifts accepted, gift {accepted + 1} refused with QUEUE_FAILED; queue journal "
              f"{os.path.getsize(queue)} bytes (limit {limit}); Laravel saw {len(ids)} transactions once each")
        sender.close(); other.close()
    finally:
        server.close()
