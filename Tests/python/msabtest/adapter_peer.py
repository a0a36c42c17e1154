"""A Python peer on msab's Redis wire: Socket.IO Redis emitters and a Node.js adapter node.

It follows ``shared/redis-adapter.md`` (the classic ``@socket.io/redis-adapter`` 8.x protocol,
prefix ``socket.io``, namespace ``/``), built on PyPI ``msgpack`` (the notepack subset the adapter
uses encodes the same bytes: smallest integer forms, ``str8`` strings, float64, ``bin`` for bytes)
and ``redis`` (``redis.asyncio``).

Pure encoders (no I/O) return :class:`Publish` values (channel + payload bytes):

- :func:`node_broadcast` — what a Node adapter node publishes for ``io.to(...).except(...).emit``
  (``[uid, {type:2, data, nsp:"/"}, {rooms, except, flags}]``; one room → the room channel);
- :func:`node_emitter` — ``@socket.io/redis-emitter``'s ``emit`` (uid ``"emitter"``, opts in the
  order ``rooms, flags, except``);
- :func:`php_emitter` — the PHP family (``socket.io-php-emitter``): no ``except``, PHP empty arrays
  (msgpack ``0x90``) for empty ``rooms``/``flags``, ``type`` 5 with ``flags.binary`` when binary,
  the 0xda/0xdb byte substitution of that case, and one publish per room channel;
- :func:`request_json` — the adapter's JSON requests (compact, as ``JSON.stringify``).

:class:`AdapterPeer` is a Node adapter node: it PSUBSCRIBEs ``socket.io#/#*`` and SUBSCRIBEs
``socket.io-request#/#``, ``socket.io-response#/#`` and its own ``socket.io-response#/#<uid>#``
(so ``PUBSUB NUMSUB socket.io-request#/#`` counts it, as it counts a Node node), records every
broadcast, request and response it sees, sends the adapter's requests (ALL_ROOMS, REMOTE_FETCH,
REMOTE_JOIN/LEAVE/DISCONNECT, SERVER_SIDE_EMIT, BROADCAST with ack) and collects the answers the
way the Node requester does (expecting ``NUMSUB - 1`` answering nodes). Holding no sockets, it
answers other nodes' requests as an empty Node node would (ALL_ROOMS ``[]``, REMOTE_FETCH ``[]``,
BROADCAST with ack ``clientCount: 0``; SERVER_SIDE_EMIT with ack is not answered: a Node node only
answers from a ``serverSideEmit`` listener, and this one has none), unless ``answer_requests=False``.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import string
import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Callable, Iterable, Sequence

import msgpack
import redis.asyncio as aioredis

PREFIX = "socket.io"
NSP = "/"
BROADCAST_CHANNEL = f"{PREFIX}#{NSP}#"             # socket.io#/#
REQUEST_CHANNEL = f"{PREFIX}-request#{NSP}#"       # socket.io-request#/#
RESPONSE_CHANNEL = f"{PREFIX}-response#{NSP}#"     # socket.io-response#/#
EMITTER_UID = "emitter"
EVENT = 2
BINARY_EVENT = 5


class RequestType(IntEnum):
    """``lib/index.ts`` RequestType of the classic adapter."""

    SOCKETS = 0
    ALL_ROOMS = 1
    REMOTE_JOIN = 2
    REMOTE_LEAVE = 3
    REMOTE_DISCONNECT = 4
    REMOTE_FETCH = 5
    SERVER_SIDE_EMIT = 6
    BROADCAST = 7
    BROADCAST_CLIENT_COUNT = 8
    BROADCAST_ACK = 9


def room_channel(room: str) -> str:
    """``socket.io#/#<room>#`` (a socket id is a room too)."""
    return f"{BROADCAST_CHANNEL}{room}#"


def specific_response_channel(uid: str) -> str:
    """``socket.io-response#/#<uid>#``: answers meant for one requesting node."""
    return f"{RESPONSE_CHANNEL}{uid}#"


def new_uid(length: int = 6) -> str:
    """A random id like the adapter's ``uid2(6)``."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def pack(value: Any) -> bytes:
    """notepack-compatible msgpack (``bytes`` → ``bin``, ``str`` → ``str``, dict order kept)."""
    return msgpack.packb(value, use_bin_type=True)


def unpack(data: bytes) -> Any:
    """msgpack → Python (``str`` as ``str``, ``bin`` as ``bytes``; non-string map keys allowed)."""
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def request_json(value: dict[str, Any]) -> bytes:
    """``JSON.stringify`` of a request or response (compact; starts with ``{`` = 0x7b)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def decode_wire(data: bytes) -> Any:
    """The adapter's sniff (``lib/index.ts`` 256-261): ``{`` → JSON, anything else → msgpack."""
    if data[:1] == b"{":
        return json.loads(data.decode())
    return unpack(data)


@dataclass(frozen=True)
class Publish:
    """One ``PUBLISH channel payload``."""

    channel: str
    payload: bytes


def _channel_for(rooms: Sequence[str]) -> str:
    # lib/index.ts 631-634 (and the emitter): exactly one room → that room's channel.
    return room_channel(rooms[0]) if len(rooms) == 1 else BROADCAST_CHANNEL


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def node_broadcast(uid: str, event: str, *args: Any, rooms: Sequence[str] = (), except_: Sequence[str] = (),
                   flags: dict[str, Any] | None = None) -> Publish:
    """A Node adapter node's broadcast (``RedisAdapter.broadcast``): ``[uid, packet, opts]`` with
    ``packet = {type: 2, data: [event, ...args], nsp: "/"}`` and ``opts = {rooms, except, flags}``."""
    rooms = _unique(rooms)
    packet = {"type": EVENT, "data": [event, *args], "nsp": NSP}
    opts = {"rooms": rooms, "except": _unique(except_), "flags": dict(flags or {})}
    return Publish(_channel_for(rooms), pack([uid, packet, opts]))


def node_emitter(event: str, *args: Any, rooms: Sequence[str] = (), except_: Sequence[str] = (),
                 flags: dict[str, Any] | None = None) -> Publish:
    """``@socket.io/redis-emitter`` 5.x ``emit``: uid ``"emitter"``, opts ``{rooms, flags, except}``."""
    rooms = _unique(rooms)
    packet = {"type": EVENT, "data": [event, *args], "nsp": NSP}
    opts = {"rooms": rooms, "flags": dict(flags or {}), "except": _unique(except_)}
    return Publish(_channel_for(rooms), pack([EMITTER_UID, packet, opts]))


def _php_value(value: Any) -> Any:
    """A PHP array: an empty one is a list (msgpack ``0x90``), never an empty map."""
    if isinstance(value, dict):
        return {k: _php_value(v) for k, v in value.items()} if value else []
    if isinstance(value, (list, tuple)):
        return [_php_value(v) for v in value]
    return value


def php_emitter(event: str, *args: Any, rooms: Sequence[str] = (), flags: dict[str, Any] | None = None,
                binary: bool = False) -> list[Publish]:
    """``socket.io-php-emitter`` (``src/SocketIO/Emitter.php``): ``[uid, packet, opts]`` with
    ``packet = {type: 2|5, data, nsp: "/"}``, ``opts = {rooms, flags}`` (no ``except``; empty
    ``rooms``/``flags`` are PHP empty arrays = msgpack ``0x90``), ``type`` 5 and ``flags.binary`` when
    ``binary`` (the PHP ``Binary`` wrapper becomes a plain string there, so pass ``str``), then the
    emitter's byte substitution 0xda→0xd8, 0xdb→0xd9 on the whole buffer (a no-op unless the
    message holds those bytes), and one PUBLISH per room channel (the base channel without rooms)."""
    rooms = _unique(rooms)
    flags = dict(flags or {})
    if binary:
        flags["binary"] = True
    packet = {"type": BINARY_EVENT if binary else EVENT, "data": _php_value([event, *args]), "nsp": NSP}
    opts = {"rooms": list(rooms), "flags": _php_value(flags)}
    payload = pack([EMITTER_UID, packet, opts])
    if binary:
        payload = payload.replace(b"\xda", b"\xd8").replace(b"\xdb", b"\xd9")
    if rooms:
        return [Publish(room_channel(r), payload) for r in rooms]
    return [Publish(BROADCAST_CHANNEL, payload)]


def emitter_request(kind: RequestType, rooms: Sequence[str] = (), except_: Sequence[str] = (),
                    target_rooms: Sequence[str] = (), close: bool = False) -> Publish:
    """``@socket.io/redis-emitter``'s ``socketsJoin`` / ``socketsLeave`` / ``disconnectSockets``:
    JSON ``{type, opts: {rooms, except}, rooms | close}`` on the request channel, **without** ``uid``."""
    body: dict[str, Any] = {"type": int(kind), "opts": {"rooms": _unique(rooms), "except": _unique(except_)}}
    if kind in (RequestType.REMOTE_JOIN, RequestType.REMOTE_LEAVE):
        body["rooms"] = list(target_rooms)
    elif kind == RequestType.REMOTE_DISCONNECT:
        body["close"] = close
    else:
        raise ValueError(f"the emitter sends no {kind!r} request")
    return Publish(REQUEST_CHANNEL, request_json(body))


# ----- the Node adapter node ---------------------------------------------------------------------


@dataclass
class WireMessage:
    """One message the peer received: ``kind`` is ``broadcast`` (pmessage on ``socket.io#/#…``),
    ``request`` or ``response``; ``decoded`` is the JSON/msgpack value (None if undecodable, then
    ``error`` says why); ``room`` is the channel's room suffix for broadcasts (``""`` for the base)."""

    kind: str
    channel: str
    raw: bytes
    decoded: Any
    time: float
    room: str = ""
    error: str | None = None

    @property
    def uid(self) -> Any:
        """The sender's uid: ``[uid, packet, opts][0]`` of a broadcast, ``uid`` of a request."""
        if self.kind == "broadcast" and isinstance(self.decoded, list) and self.decoded:
            return self.decoded[0]
        return self.decoded.get("uid") if isinstance(self.decoded, dict) else None

    @property
    def packet(self) -> Any:
        return self.decoded[1] if self.kind == "broadcast" and isinstance(self.decoded, list) and len(self.decoded) > 1 else None

    @property
    def opts(self) -> Any:
        return self.decoded[2] if self.kind == "broadcast" and isinstance(self.decoded, list) and len(self.decoded) > 2 else None

    @property
    def request_id(self) -> Any:
        return self.decoded.get("requestId") if isinstance(self.decoded, dict) else None


@dataclass
class RequestResult:
    """Answers to one request: ``expected`` answering nodes (``NUMSUB - 1`` as the Node requester
    counts), ``responses`` the decoded answers in arrival order, ``messages`` the raw ones."""

    request_id: str
    expected: int
    responses: list[Any] = field(default_factory=list)
    messages: list[WireMessage] = field(default_factory=list)
    elapsed: float = 0.0


@dataclass
class AckResult:
    """A BROADCAST with ack: ``client_counts`` the type-8 ``clientCount`` per answering node,
    ``acks`` the type-9 ``packet`` values (one per client ack)."""

    request_id: str
    expected_nodes: int
    client_counts: list[int] = field(default_factory=list)
    acks: list[Any] = field(default_factory=list)
    messages: list[WireMessage] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        counted = sum(c for c in self.client_counts if isinstance(c, int))
        return len(self.client_counts) >= self.expected_nodes and len(self.acks) >= counted


class AdapterPeer:
    """A Node.js ``@socket.io/redis-adapter`` node in Python (see the module doc).

    ``url``: ``redis://127.0.0.1:PORT``. Use ``async with AdapterPeer(url) as peer`` or
    :meth:`start` / :meth:`close`. Every received message lands in :attr:`messages`.
    """

    def __init__(self, url: str, uid: str | None = None, answer_requests: bool = True,
                 requests_timeout: float = 5.0) -> None:
        self.url = url
        self.uid = uid or new_uid()
        self.answer_requests = answer_requests
        self.requests_timeout = requests_timeout
        self.messages: list[WireMessage] = []
        self.answered: list[WireMessage] = []  # other nodes' requests this peer answered
        self.pub: aioredis.Redis | None = None
        self._sub_conn: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self._confirmed: set[str] = set()

    @property
    def channels(self) -> list[str]:
        return [REQUEST_CHANNEL, RESPONSE_CHANNEL, specific_response_channel(self.uid)]

    @property
    def pattern(self) -> str:
        return BROADCAST_CHANNEL + "*"

    async def start(self, timeout: float = 5.0) -> "AdapterPeer":
        self.pub = aioredis.Redis.from_url(self.url, decode_responses=False)
        self._sub_conn = aioredis.Redis.from_url(self.url, decode_responses=False)
        self._pubsub = self._sub_conn.pubsub()
        await self._pubsub.psubscribe(self.pattern)
        await self._pubsub.subscribe(*self.channels)
        self._reader = asyncio.ensure_future(self._read())
        want = {self.pattern, *self.channels}
        await self._wait(lambda: want <= self._confirmed, timeout, f"subscriptions {sorted(want)} confirmed")
        return self

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
            self._reader = None
        if self._pubsub is not None:
            try:
                await self._pubsub.aclose()
            except Exception:
                pass
            self._pubsub = None
        for conn in (self._sub_conn, self.pub):
            if conn is not None:
                try:
                    await conn.aclose()
                except Exception:
                    pass
        self._sub_conn = self.pub = None

    async def __aenter__(self) -> "AdapterPeer":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # ----- receiving -----------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self._pubsub is not None
        async for item in self._pubsub.listen():
            kind = item.get("type")
            channel = item.get("channel")
            channel = channel.decode() if isinstance(channel, bytes) else str(channel)
            if kind in ("subscribe", "psubscribe"):
                self._confirmed.add(channel)
                await self._notify()
                continue
            if kind not in ("message", "pmessage"):
                continue
            data = item.get("data")
            if not isinstance(data, bytes):
                continue
            msg = self._classify(channel, data)
            self.messages.append(msg)
            if msg.kind == "request" and self.answer_requests:
                await self._answer(msg)
            await self._notify()

    def _classify(self, channel: str, data: bytes) -> WireMessage:
        now = time.monotonic()
        if channel.startswith(RESPONSE_CHANNEL):
            kind, room = "response", ""
        elif channel.startswith(REQUEST_CHANNEL):
            kind, room = "request", ""
        else:
            kind, room = "broadcast", channel[len(BROADCAST_CHANNEL):-1] if channel.endswith("#") else ""
        try:
            decoded = unpack(data) if kind == "broadcast" else decode_wire(data)
            error = None
        except Exception as e:  # noqa: BLE001 - recorded, the test decides
            decoded, error = None, repr(e)
        return WireMessage(kind=kind, channel=channel, raw=data, decoded=decoded, time=now, room=room, error=error)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"[peer {self.uid}] {what}: not within {timeout}s")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except asyncio.TimeoutError:
                    pass

    def mark(self) -> int:
        """An index for ``after=`` (ignore what was received before)."""
        return len(self.messages)

    def received(self, kind: str | None = None, predicate: Callable[[WireMessage], bool] | None = None,
                 after: int = 0) -> list[WireMessage]:
        return [m for m in self.messages[after:] if (kind is None or m.kind == kind) and (predicate is None or predicate(m))]

    async def wait_message(self, kind: str | None = None, predicate: Callable[[WireMessage], bool] | None = None,
                           timeout: float = 5.0, after: int = 0) -> WireMessage:
        hits: list[WireMessage] = []

        def found() -> bool:
            hits[:] = self.received(kind, predicate, after)
            return bool(hits)

        await self._wait(found, timeout, f"no {kind or 'message'} matching; got "
                         f"{[(m.kind, m.channel) for m in self.messages[after:]][-20:]}")
        return hits[0]

    # ----- answering other nodes' requests as an empty Node node ---------------------------------

    async def _answer(self, msg: WireMessage) -> None:
        req = msg.decoded
        if not isinstance(req, dict) or req.get("uid") == self.uid:
            return
        rid, kind = req.get("requestId"), req.get("type")
        if rid is None:
            return
        if kind == RequestType.ALL_ROOMS:
            body = request_json({"requestId": rid, "rooms": []})
        elif kind in (RequestType.REMOTE_FETCH, RequestType.SOCKETS):
            body = request_json({"requestId": rid, "sockets": []})
        elif kind == RequestType.BROADCAST:
            body = request_json({"type": int(RequestType.BROADCAST_CLIENT_COUNT), "requestId": rid, "clientCount": 0})
        else:
            return
        uid = req.get("uid")
        channel = specific_response_channel(uid) if isinstance(uid, str) else RESPONSE_CHANNEL
        assert self.pub is not None
        await self.pub.publish(channel, body)
        self.answered.append(msg)

    # ----- publishing ------------------------------------------------------------------------------

    async def publish(self, *items: Publish | Iterable[Publish]) -> list[int]:
        """PUBLISH each item; returns the receiver counts Redis reported."""
        assert self.pub is not None, "start() first"
        flat: list[Publish] = []
        for it in items:
            flat.extend([it] if isinstance(it, Publish) else list(it))
        return [await self.pub.publish(p.channel, p.payload) for p in flat]

    async def broadcast(self, event: str, *args: Any, rooms: Sequence[str] = (), except_: Sequence[str] = (),
                        flags: dict[str, Any] | None = None) -> list[int]:
        """``io.to(rooms).except(except_).emit(event, *args)`` from this node."""
        return await self.publish(node_broadcast(self.uid, event, *args, rooms=rooms, except_=except_, flags=flags))

    async def server_count(self) -> int:
        """``PUBSUB NUMSUB socket.io-request#/#`` (the adapter's ``serverCount()``, self included)."""
        assert self.pub is not None
        reply = await self.pub.pubsub_numsub(REQUEST_CHANNEL)
        return int(reply[0][1]) if reply else 0

    async def request(self, body: dict[str, Any], timeout: float | None = None, settle: float = 0.3,
                      expected: int | None = None) -> RequestResult:
        """Publish any JSON request ``body`` (must hold ``requestId``) and collect the answers
        carrying its ``requestId`` (``expected`` of them; default ``NUMSUB - 1``)."""
        count = (await self.server_count()) - 1 if expected is None else expected
        rid = body["requestId"]
        mark = self.mark()
        started = time.monotonic()
        assert self.pub is not None
        await self.pub.publish(REQUEST_CHANNEL, request_json(body))
        result = RequestResult(request_id=rid, expected=count)

        def answers() -> list[WireMessage]:
            return self.received("response", lambda m: m.request_id == rid, after=mark)

        try:
            await self._wait(lambda: len(answers()) >= count, timeout or self.requests_timeout,
                             f"request {body.get('type')} {rid}: {len(answers())}/{count} answers")
        except TimeoutError:
            pass  # the caller asserts on what arrived
        result.elapsed = time.monotonic() - started
        if settle > 0:  # a duplicate or a late extra answer is a finding too
            await asyncio.sleep(settle)
        result.messages = answers()
        result.responses = [m.decoded for m in result.messages]
        return result

    async def all_rooms(self, timeout: float | None = None, settle: float = 0.3) -> RequestResult:
        """ALL_ROOMS: JSON ``{uid, requestId, type: 1}``; answers ``{requestId, rooms}``."""
        return await self.request({"uid": self.uid, "requestId": new_uid(), "type": int(RequestType.ALL_ROOMS)},
                                   timeout, settle)

    async def fetch_sockets(self, rooms: Sequence[str] = (), except_: Sequence[str] = (),
                            timeout: float | None = None, settle: float = 0.3) -> RequestResult:
        """REMOTE_FETCH: ``{uid, requestId, type: 5, opts: {rooms, except}}``; answers
        ``{requestId, sockets: [{id, handshake, rooms, data}]}``."""
        return await self.request({"uid": self.uid, "requestId": new_uid(), "type": int(RequestType.REMOTE_FETCH),
                                    "opts": {"rooms": list(rooms), "except": list(except_)}}, timeout, settle)

    async def sockets_join(self, target_rooms: Sequence[str], rooms: Sequence[str] = (), except_: Sequence[str] = ()) -> None:
        """REMOTE_JOIN (``io.in(rooms).except(except_).socketsJoin(target_rooms)``); no answer."""
        await self._fire(RequestType.REMOTE_JOIN, rooms, except_, {"rooms": list(target_rooms)})

    async def sockets_leave(self, target_rooms: Sequence[str], rooms: Sequence[str] = (), except_: Sequence[str] = ()) -> None:
        """REMOTE_LEAVE (``socketsLeave``); no answer."""
        await self._fire(RequestType.REMOTE_LEAVE, rooms, except_, {"rooms": list(target_rooms)})

    async def disconnect_sockets(self, rooms: Sequence[str] = (), except_: Sequence[str] = (), close: bool = False) -> None:
        """REMOTE_DISCONNECT (``disconnectSockets(close)``); no answer."""
        await self._fire(RequestType.REMOTE_DISCONNECT, rooms, except_, {"close": close})

    async def _fire(self, kind: RequestType, rooms: Sequence[str], except_: Sequence[str], extra: dict[str, Any]) -> None:
        body = {"uid": self.uid, "type": int(kind), "opts": {"rooms": list(rooms), "except": list(except_)}, **extra}
        assert self.pub is not None
        await self.pub.publish(REQUEST_CHANNEL, request_json(body))

    async def server_side_emit(self, event: str, *args: Any, ack: bool = False, timeout: float | None = None,
                               settle: float = 0.3) -> RequestResult | None:
        """SERVER_SIDE_EMIT ``{uid, type: 6, data: [event, ...args]}`` (+ ``requestId`` with ack,
        answered ``{type: 6, requestId, data}`` on the shared response channel)."""
        body: dict[str, Any] = {"uid": self.uid, "type": int(RequestType.SERVER_SIDE_EMIT), "data": [event, *args]}
        if not ack:
            assert self.pub is not None
            await self.pub.publish(REQUEST_CHANNEL, request_json(body))
            return None
        body = {"uid": self.uid, "requestId": new_uid(), "type": int(RequestType.SERVER_SIDE_EMIT), "data": [event, *args]}
        return await self.request(body, timeout, settle)

    async def broadcast_with_ack(self, event: str, *args: Any, rooms: Sequence[str] = (), except_: Sequence[str] = (),
                                 ack_timeout_ms: int = 5000, timeout: float | None = None, settle: float = 0.3) -> AckResult:
        """``io.to(rooms).timeout(ms).emit(event, *args, ack)``: msgpack request
        ``{uid, requestId, type: 7, packet: {type: 2, data, nsp}, opts: {rooms, except, flags: {timeout}}}``;
        each node answers JSON ``{type: 8, requestId, clientCount}``, then msgpack
        ``{type: 9, requestId, packet: <ack argument>}`` per client ack."""
        expected = (await self.server_count()) - 1
        rid = new_uid()
        request = {"uid": self.uid, "requestId": rid, "type": int(RequestType.BROADCAST),
                   "packet": {"type": EVENT, "data": [event, *args], "nsp": NSP},
                   "opts": {"rooms": _unique(rooms), "except": _unique(except_), "flags": {"timeout": ack_timeout_ms}}}
        mark = self.mark()
        assert self.pub is not None
        await self.pub.publish(REQUEST_CHANNEL, pack(request))
        result = AckResult(request_id=rid, expected_nodes=expected)

        def refresh() -> bool:
            msgs = self.received("response", lambda m: m.request_id == rid and isinstance(m.decoded, dict), after=mark)
            result.messages = msgs
            result.client_counts = [m.decoded.get("clientCount") for m in msgs
                                    if m.decoded.get("type") == RequestType.BROADCAST_CLIENT_COUNT]
            result.acks = [m.decoded.get("packet") for m in msgs if m.decoded.get("type") == RequestType.BROADCAST_ACK]
            return result.complete

        try:
            await self._wait(refresh, timeout or ack_timeout_ms / 1000 + 1.0, f"broadcast ack {rid}")
        except TimeoutError:
            pass
        if settle > 0:
            await asyncio.sleep(settle)
        refresh()
        return result
