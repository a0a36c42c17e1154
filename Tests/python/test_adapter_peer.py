"""The Python Redis-adapter peer itself (msabtest/adapter_peer.py), before it is trusted against
msab: its emitter messages are byte-identical to the dumps of shared/redis-adapter.md (§A.2 for a
Node node's broadcast, §A.4 for @socket.io/redis-emitter, and the PHP emitter's quirks), its channel
rules are the adapter's, and two peers on a real redis-server answer and count each other the way
two Node nodes do (NUMSUB, ALL_ROOMS, REMOTE_FETCH, BROADCAST with ack, self-filtering)."""
import json

import pytest

from msabtest import run
from msabtest.adapter_peer import (BROADCAST_CHANNEL, REQUEST_CHANNEL, AdapterPeer, Publish, RequestType,
                                   emitter_request, node_broadcast, node_emitter, pack, php_emitter, room_channel,
                                   unpack)
from msabtest.server import RedisServer

SID = "AbCdEfGhIjKlMnOpQrSt"


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def s(text: str) -> bytes:
    """A msgpack string as the dumps spell it: its fixstr/str8 prefix, then the bytes."""
    raw = text.encode()
    return (bytes([0xA0 | len(raw)]) if len(raw) < 32 else h("d9") + bytes([len(raw)])) + raw


# §A.2: socket.to("42").emit("chat:message", {text: "hi"}) from SID, adapter uid Xy12Ab.
A2_BYTES = (h("93") + h("a6") + b"Xy12Ab"
            + h("83") + h("a4") + b"type" + h("02")
            + h("a4") + b"data" + h("92")
            + h("ac") + b"chat:message"
            + h("81") + h("a4") + b"text" + h("a2") + b"hi"
            + h("a3") + b"nsp" + h("a1") + b"/"
            + h("83") + h("a5") + b"rooms" + h("91") + h("a2") + b"42"
            + h("a6") + b"except" + h("91") + h("b4") + SID.encode()
            + h("a5") + b"flags" + h("80"))

# §A.4: emitter.emit("balance.updated", {coins: "10"}) to everyone.
A4_BYTES = (h("93 a7") + b"emitter" + h("83 a4") + b"type" + h("02") + h("a4") + b"data" + h("92")
            + h("af") + b"balance.updated" + h("81 a5") + b"coins" + h("a2") + b"10"
            + h("a3") + b"nsp" + h("a1") + b"/"
            + h("83 a5") + b"rooms" + h("90") + h("a5") + b"flags" + h("80") + h("a6") + b"except" + h("90"))


def test_node_broadcast_is_byte_identical_to_the_a2_dump():
    pub = node_broadcast("Xy12Ab", "chat:message", {"text": "hi"}, rooms=["42"], except_=[SID])
    assert pub == Publish("socket.io#/#42#", A2_BYTES)
    assert pub.payload.hex(" ") == A2_BYTES.hex(" ")


def test_node_emitter_is_byte_identical_to_the_a4_dump():
    pub = node_emitter("balance.updated", {"coins": "10"})
    assert pub == Publish("socket.io#/#", A4_BYTES)


def test_binary_args_are_msgpack_bin_and_numbers_follow_notepack():
    pub = node_emitter("blob", b"\x01\x02\x03", rooms=["r1"])
    assert h("c4 03 01 02 03") in pub.payload
    assert pub.channel == "socket.io#/#r1#"
    # smallest integer forms, float64 for every non-integer (notepack never writes float32)
    assert pack([0, 127, 128, 255, 256, 65536, -1, -33, -129, 1.5]) == h(
        "9a 00 7f cc80 ccff cd0100 ce00010000 ff d0df d1ff7f cb3ff8000000000000")
    assert pack("x" * 40)[:2] == h("d9 28")  # str8, as notepack
    decoded = unpack(pub.payload)
    assert decoded == ["emitter", {"type": 2, "data": ["blob", b"\x01\x02\x03"], "nsp": "/"},
                       {"rooms": ["r1"], "flags": {}, "except": []}]


def test_channel_rules():
    # exactly one room → its channel; none or several → the base channel (lib/index.ts 631-634)
    assert node_broadcast("u", "e").channel == BROADCAST_CHANNEL
    assert node_broadcast("u", "e", rooms=["a"]).channel == room_channel("a") == "socket.io#/#a#"
    assert node_broadcast("u", "e", rooms=["a", "b"]).channel == BROADCAST_CHANNEL
    assert node_emitter("e", rooms=[SID]).channel == f"socket.io#/#{SID}#"
    assert node_emitter("e", rooms=["a", "b"]).channel == BROADCAST_CHANNEL
    assert unpack(node_emitter("e", rooms=["a", "a"]).payload)[2]["rooms"] == ["a"]


def test_php_emitter_shape():
    # to everyone: PHP empty arrays for rooms and flags (0x90 each, never a map), no `except`
    [pub] = php_emitter("balance.updated", {"coins": "10"})
    assert pub == Publish(BROADCAST_CHANNEL,
                          h("93 a7") + b"emitter" + h("83 a4") + b"type" + h("02") + h("a4") + b"data" + h("92")
                          + h("af") + b"balance.updated" + h("81 a5") + b"coins" + h("a2") + b"10"
                          + h("a3") + b"nsp" + h("a1") + b"/"
                          + h("82 a5") + b"rooms" + h("90") + h("a5") + b"flags" + h("90"))
    # several rooms: the same bytes once per room channel
    pubs = php_emitter("room.level_up", {"level": 2}, rooms=["7", "8"])
    assert [p.channel for p in pubs] == ["socket.io#/#7#", "socket.io#/#8#"]
    assert pubs[0].payload == pubs[1].payload
    assert unpack(pubs[0].payload)[2] == {"rooms": ["7", "8"], "flags": []}
    # binary: type 5, flags.binary, the string stays a string; an empty payload map is []
    [pub] = php_emitter("bin", "AB", {}, rooms=["7"], binary=True)
    assert unpack(pub.payload) == ["emitter", {"type": 5, "data": ["bin", "AB", []], "nsp": "/"},
                                   {"rooms": ["7"], "flags": {"binary": True}}]
    # legacy flags ride along
    [pub] = php_emitter("x", flags={"json": True, "broadcast": True})
    assert unpack(pub.payload)[2] == {"rooms": [], "flags": {"json": True, "broadcast": True}}
    # the 0xda/0xdb substitution of the binary case (a str16 prefix becomes 0xd8)
    [pub] = php_emitter("bin", "y" * 300, binary=True)
    assert b"\xda" not in pub.payload and h("d8 01 2c") in pub.payload


def test_request_json_shapes():
    join = emitter_request(RequestType.REMOTE_JOIN, rooms=[SID], target_rooms=["lobby"])
    assert join == Publish(REQUEST_CHANNEL, b'{"type":2,"opts":{"rooms":["' + SID.encode() + b'"],"except":[]},"rooms":["lobby"]}')
    bye = emitter_request(RequestType.REMOTE_DISCONNECT, rooms=["r"], close=True)
    assert json.loads(bye.payload) == {"type": 4, "opts": {"rooms": ["r"], "except": []}, "close": True}
    with pytest.raises(ValueError):
        emitter_request(RequestType.ALL_ROOMS)


@pytest.fixture
def redis_url():
    r = RedisServer()
    if not r.available():
        pytest.fail("redis-server is not installed (the Makefile's apt target installs it)")
    r.start()
    try:
        yield r.url
    finally:
        r.close()


def test_two_peers_answer_each_other_like_node_nodes(redis_url):
    async def body():
        async with AdapterPeer(redis_url) as a, AdapterPeer(redis_url) as b:
            assert await a.server_count() == 2
            rooms = await a.all_rooms(timeout=2)
            assert rooms.expected == 1 and rooms.responses == [{"requestId": rooms.request_id, "rooms": []}]
            assert rooms.messages[0].channel == f"socket.io-response#/#{a.uid}#"
            fetched = await a.fetch_sockets(rooms=["r"], timeout=2)
            assert fetched.responses == [{"requestId": fetched.request_id, "sockets": []}]
            acked = await a.broadcast_with_ack("ping", 1, rooms=["r"], ack_timeout_ms=1000)
            assert acked.expected_nodes == 1 and acked.client_counts == [0] and acked.acks == [] and acked.complete
            # b sees a's request as msgpack (type 7), its own answers only once, and a's broadcast
            req = [m for m in b.received("request") if m.decoded.get("type") == RequestType.BROADCAST]
            assert len(req) == 1 and req[0].raw[:1] != b"{"
            assert req[0].decoded["packet"] == {"type": 2, "data": ["ping", 1], "nsp": "/"}
            assert req[0].decoded["opts"] == {"rooms": ["r"], "except": [], "flags": {"timeout": 1000}}
            mark = b.mark()
            await a.broadcast("hello", b"\x00\xff", rooms=["r"], except_=[SID])
            got = await b.wait_message("broadcast", after=mark, timeout=2)
            assert got.channel == "socket.io#/#r#" and got.room == "r" and got.uid == a.uid
            assert got.packet == {"type": 2, "data": ["hello", b"\x00\xff"], "nsp": "/"}
            assert got.opts == {"rooms": ["r"], "except": [SID], "flags": {}}
            # requests are not answered by their sender
            assert not [m for m in a.answered if m.uid == a.uid]
            assert len(b.answered) == 3
    run(body(), timeout=30)
