"""Issue 5 signalling without audio: room:join/leave, participants and public profiles, the
membership gate, ownership checks and every media error string (byte-exact, with its ack shape)."""
import uuid

import pytest

from msabtest.rtp_params import opus_rtp_capabilities, opus_rtp_parameters
from msabtest.server import MsabServer
from msabtest.sioclient import Client

PRIVATE = {"email", "phone", "date_of_birth", "coins", "diamonds"}
MEDIA_EVENTS = {
    "transport:create": lambda room: {"type": "producer", "roomId": room},
    "transport:connect": lambda room: {"roomId": room, "transportId": str(uuid.uuid4()),
                                       "dtlsParameters": {"role": "server", "fingerprints": [{"algorithm": "sha-256", "value": "AB"}]}},
    "transport:restartIce": lambda room: {"roomId": room, "transportId": str(uuid.uuid4())},
    "audio:produce": lambda room: {"roomId": room, "transportId": str(uuid.uuid4()), "kind": "audio",
                                   "rtpParameters": opus_rtp_parameters(ssrc=1234, header_extensions=False)},
    "audio:consume": lambda room: {"roomId": room, "transportId": str(uuid.uuid4()), "producerId": str(uuid.uuid4()),
                                   "rtpCapabilities": opus_rtp_capabilities(header_extensions=False)},
    "consumer:resume": lambda room: {"roomId": room, "consumerId": str(uuid.uuid4())},
    "audio:selfMute": lambda room: {"roomId": room, "producerId": str(uuid.uuid4())},
    "audio:selfUnmute": lambda room: {"roomId": room, "producerId": str(uuid.uuid4())},
}


@pytest.fixture(scope="module")
def server():
    with MsabServer.small() as s:
        yield s


@pytest.fixture
def clients(server):
    made = []

    def make(user, name, **kw):
        c = Client(server, server.token(user, name, **kw))
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def test_join_ack_shape_and_public_profiles(server, clients):
    room = f"r-{uuid.uuid4().hex[:8]}"
    a = clients(101, "Ann")
    b = clients(102, "Ben")
    ack_a = a.call("room:join", {"roomId": room})
    assert set(ack_a) == {"rtpCapabilities", "participants", "seats", "lockedSeats", "existingProducers"}
    codecs = ack_a["rtpCapabilities"]["codecs"]
    assert any(c["mimeType"].lower() == "audio/opus" and c["clockRate"] == 48000 for c in codecs)
    assert ack_a["participants"] == [] and ack_a["seats"] == [] and ack_a["lockedSeats"] == [] and ack_a["existingProducers"] == []
    ack_b = b.call("room:join", {"roomId": room})
    assert [p["id"] for p in ack_b["participants"]] == [101]
    assert ack_b["participants"][0]["name"] == "Ann" and ack_b["participants"][0]["isSpeaker"] is False
    joined = a.wait_for("room:userJoined", lambda p: p["userId"] == 102)
    assert joined["user"]["id"] == 102 and joined["user"]["name"] == "Ben"
    for payload in [joined["user"], *ack_b["participants"]]:
        assert not (PRIVATE & set(payload))
    # A re-join is a refresh: no second userJoined, no double count.
    b.call("room:join", {"roomId": room})
    b.emit("room:leave", {"roomId": room})
    left = a.wait_for("room:userLeft", lambda p: p["userId"] == 102)
    assert left == {"userId": 102}
    assert len(a.received("room:userJoined")) == 1


def test_every_media_event_needs_membership(server, clients):
    outsider = clients(103, "Out")
    for event, payload in MEDIA_EVENTS.items():
        assert outsider.call(event, payload("nowhere")) == {"error": "Not in room"}, event
    for event in ["seat:take", "seat:leave", "seat:lock"]:
        assert outsider.call(event, {"roomId": "nowhere", "seatIndex": 1}) == {"success": False, "error": "Not in room"}


def test_invalid_payloads(server, clients):
    c = clients(104, "Val")
    room = f"r-{uuid.uuid4().hex[:8]}"
    c.call("room:join", {"roomId": room})
    bad = [
        ("transport:create", {"type": "sideways", "roomId": room}),
        ("transport:create", {"roomId": room}),
        ("transport:connect", {"roomId": room, "transportId": "not-a-uuid", "dtlsParameters": {"fingerprints": []}}),
        ("audio:produce", {"roomId": room, "transportId": str(uuid.uuid4()), "kind": "video", "rtpParameters": {"codecs": []}}),
        ("audio:consume", {"roomId": room, "transportId": str(uuid.uuid4()), "producerId": 5, "rtpCapabilities": {}}),
        ("consumer:resume", {"roomId": room}),
        ("consumer:resume", "just a string"),
        ("room:join", {"roomId": 42}),
        ("room:join", [1, 2]),
    ]
    for event, payload in bad:
        assert c.call(event, payload) == {"error": "Invalid payload"}, (event, payload)


def test_ownership_and_lookup_errors(server, clients):
    room = f"r-{uuid.uuid4().hex[:8]}"
    a = clients(105, "Own")
    b = clients(106, "Oth")
    a.call("room:join", {"roomId": room})
    b.call("room:join", {"roomId": room})
    t1 = a.call("transport:create", {"type": "producer", "roomId": room})
    assert set(t1) == {"id", "iceParameters", "iceCandidates", "dtlsParameters"}, t1
    assert t1["iceParameters"]["iceLite"] is True
    t2 = a.call("transport:create", {"type": "consumer", "roomId": room})
    assert "id" in t2
    assert a.call("transport:create", {"type": "consumer", "roomId": room}) == {"error": "Transport limit reached"}
    # b can neither connect, produce on, nor restart a's transport.
    connect = MEDIA_EVENTS["transport:connect"](room)
    connect["transportId"] = t1["id"]
    assert b.call("transport:connect", connect) == {"error": "Transport not found"}
    produce = MEDIA_EVENTS["audio:produce"](room)
    produce["transportId"] = t1["id"]
    assert b.call("audio:produce", produce) == {"error": "Transport not found"}
    assert b.call("transport:restartIce", {"roomId": room, "transportId": t1["id"]}) == {"error": "Transport not found"}
    restarted = a.call("transport:restartIce", {"roomId": room, "transportId": t1["id"]})
    assert set(restarted) == {"iceParameters"} and restarted["iceParameters"]["usernameFragment"] != t1["iceParameters"]["usernameFragment"]
    consume = MEDIA_EVENTS["audio:consume"](room)
    consume["transportId"] = t2["id"]
    assert a.call("audio:consume", consume) == {"error": "Cannot consume"}
    assert a.call("consumer:resume", {"roomId": room, "consumerId": str(uuid.uuid4())}) == {"error": "Consumer not found"}
    assert a.call("audio:selfMute", {"roomId": room, "producerId": str(uuid.uuid4())}) == {"error": "Producer not found"}
    # Producing on a real transport, then another user tries to self-mute it.
    produce["transportId"] = t1["id"]
    produce["rtpParameters"] = opus_rtp_parameters(ssrc=22222)
    produced = a.call("audio:produce", produce)
    assert set(produced) == {"id"}, produced
    news = b.wait_for("audio:newProducer")
    assert news == {"producerId": produced["id"], "userId": 105, "kind": "audio"}
    assert b.call("audio:selfMute", {"roomId": room, "producerId": produced["id"]}) == {"error": "Not your producer"}
    assert a.call("audio:selfMute", {"roomId": room, "producerId": produced["id"]}) == {"success": True}
    muted = b.wait_for("seat:userMuted")
    assert muted == {"userId": 105, "isMuted": True, "selfMuted": True}
    # A second produce closes the first.
    again = a.call("audio:produce", produce)
    closed = b.wait_for("audio:producerClosed")
    assert closed == {"producerId": produced["id"], "userId": 105}
    assert again["id"] != produced["id"]
    # Leaving closes the socket's media in the room.
    a.emit("room:leave", {"roomId": room})
    assert b.wait_for("audio:producerClosed", lambda p: p["producerId"] == again["id"]) == {"producerId": again["id"], "userId": 105}
    b.wait_for("room:userLeft", lambda p: p["userId"] == 105)
    order = [e for e, _ in b.events if e in ("audio:producerClosed", "room:userLeft")]
    assert order[-2:] == ["audio:producerClosed", "room:userLeft"]


def test_user_get_room(server, clients):
    a = clients(107, "Finder")
    b = clients(108, "Found")
    room = f"r-{uuid.uuid4().hex[:8]}"
    b.call("room:join", {"roomId": room})
    assert a.call("user:getRoom", {"userId": 108}) == {"roomId": room}
    assert a.call("user:getRoom", {"userId": 999999}) == {"roomId": None}
    assert a.call("user:getRoom", {"userId": "108"}) == {"roomId": None, "error": "Invalid payload"}
