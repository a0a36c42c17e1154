"""MsabClient: an MSAB frontend written in Python, for tests against a real msab.

It does what the MSAB web/mobile frontend does (contract §3–§4), with real peers:
python-socketio ``AsyncClient`` for signalling and a pymediasoup ``Device`` on aiortc for audio.

- :meth:`MsabClient.connect` — Socket.IO connect with ``auth={"token": ...}``; a refusal raises
  :class:`MsabConnectError` whose ``message`` is the server's ``connect_error`` message
  (contract §2.3: ``"Invalid credentials"``, ...).
- Every server → client event is recorded as a :class:`ServerEvent` (name, payload, monotonic
  time) in :attr:`MsabClient.events`; :meth:`MsabClient.wait_for` awaits one by name/predicate.
- :meth:`MsabClient.join` (``room:join``; loads the Device with the ack's ``rtpCapabilities``),
  :meth:`MsabClient.leave` (``room:leave``).
- :meth:`MsabClient.produce_tone` — ``transport:create {type:"producer"}``, ``transport:connect``
  on the send transport's ``connect`` event, ``audio:produce`` on its ``produce`` event (the ack's
  ``id`` is the producer id) with a :class:`~msabtest.audio.ToneTrack`.
- :meth:`MsabClient.consume_all` — ``transport:create {type:"consumer"}``; every producer in the
  join ack's ``existingProducers`` and in later ``audio:newProducer`` events is consumed with
  ``audio:consume`` (carrying ``device.rtpCapabilities``) and resumed with ``consumer:resume``.
  Each consumer's track is read continuously by an :class:`AudioRecorder`;
  :meth:`MsabClient.capture` returns the audio of one producer, :meth:`MsabClient.capture_all`
  of all of them.
- :meth:`MsabClient.answer_acks` sets what the client answers when the server asks an ack for an
  event (a broadcast with ack, e.g. from a Redis-adapter peer); unset events are answered empty.
- :meth:`MsabClient.request` sends any ack'ed event and raises :class:`MsabError` carrying the
  error string when the ack is ``{error}`` or ``{success: false, error}``; :meth:`MsabClient.call`
  returns the raw ack; :meth:`MsabClient.emit` sends a no-ack event.

All room ids are sent as strings. Importing this module applies the loopback ICE patch
(:mod:`msabtest.loopback`), because tests bind only 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import socketio
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from pymediasoup import AiortcHandler, Device
from pymediasoup.consumer import Consumer
from pymediasoup.models.transport import DtlsParameters, IceCandidate, IceParameters
from pymediasoup.producer import Producer
from pymediasoup.rtp_parameters import RtpCapabilities, RtpParameters
from pymediasoup.transport import Transport

from . import loopback
from .audio import Capture, ToneTrack, frame_to_array

loopback.apply()

log = logging.getLogger("msabtest.client")


class MsabError(Exception):
    """A failed ack: ``error`` is the server's error string, ``ack`` the whole ack payload."""

    def __init__(self, event: str, error: str, ack: Any = None) -> None:
        super().__init__(f"{event} failed: {error}")
        self.event = event
        self.error = error
        self.ack = ack


class MsabTimeout(MsabError):
    """No ack (or awaited event) within the time limit."""


class MsabConnectError(MsabError):
    """The server refused the Socket.IO connection; ``message`` is its ``connect_error`` message."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__("connect", message, data)
        self.message = message


@dataclass
class ServerEvent:
    """One server → client event. ``data`` is the first argument (the payload), ``args`` all."""

    name: str
    data: Any
    args: tuple[Any, ...]
    time: float
    index: int


class AudioRecorder:
    """Reads a receiving track continuously and keeps what arrived, with arrival times.

    Reading continuously matters: aiortc queues decoded frames without bound, so a test that
    only starts reading later would get stale audio first. :meth:`capture` returns the audio that
    arrives *after* it is called.
    """

    def __init__(self, track: MediaStreamTrack, keep_seconds: float = 120.0) -> None:
        self.track = track
        self.keep_seconds = keep_seconds
        self.chunks: list[tuple[float, np.ndarray, int]] = []  # (arrival, samples x channels, rate)
        self.frames = 0
        self.ended = False
        self._new = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            try:
                frame = await self.track.recv()
            except MediaStreamError:
                self.ended = True
                self._new.set()
                return
            now = time.monotonic()
            self.chunks.append((now, frame_to_array(frame), frame.sample_rate))
            self.frames += 1
            while self.chunks and now - self.chunks[0][0] > self.keep_seconds:
                self.chunks.pop(0)
            self._new.set()

    def _build(self, chunks: list[tuple[float, np.ndarray, int]], ended: bool, timed_out: bool) -> Capture:
        cap = Capture(samples=np.zeros(0, np.int16), channels=np.zeros((0, 1), np.int16),
                      sample_rate=chunks[-1][2] if chunks else 0, frame_count=len(chunks),
                      ended=ended, timed_out=timed_out)
        if chunks:
            cap.channels = np.concatenate([c[1] for c in chunks], axis=0)
            cap.samples = cap.channels[:, 0].copy()
            cap.frame_samples = [c[1].shape[0] for c in chunks]
            cap.arrival_times = [c[0] for c in chunks]
            cap.formats = {f"s16/{c[1].shape[1]}ch/{c[2]}" for c in chunks}
        return cap

    async def capture(self, seconds: float, timeout: float | None = None) -> Capture:
        """The audio arriving from now on, until ``seconds`` of it arrived (or ``timeout``)."""
        start = time.monotonic()
        limit = timeout if timeout is not None else 2.0 * seconds + 10.0
        deadline = start + limit
        while True:
            got = [c for c in self.chunks if c[0] >= start]
            have = sum(c[1].shape[0] for c in got)
            rate = got[-1][2] if got else 0
            if rate and have >= seconds * rate:
                return self._build(got, False, False)
            if self.ended:
                return self._build(got, True, False)
            left = deadline - time.monotonic()
            if left <= 0:
                return self._build(got, False, True)
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), left)
            except asyncio.TimeoutError:
                pass

    def recent(self, seconds: float) -> Capture:
        """What arrived in the last ``seconds`` (no waiting)."""
        now = time.monotonic()
        return self._build([c for c in self.chunks if now - c[0] <= seconds], self.ended, False)

    async def stop(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, Exception):
            pass


@dataclass
class ConsumedAudio:
    """A consumer this client created for one remote producer."""

    producer_id: str
    user_id: Any
    consumer_id: str
    consumer: Consumer
    recorder: AudioRecorder
    ack: dict[str, Any] = field(default_factory=dict)


def _dump(model: Any) -> Any:
    """A pymediasoup pydantic model as the JSON a mediasoup-client would send."""
    if hasattr(model, "model_dump"):
        return model.model_dump(exclude_none=True)
    return model


class MsabClient:
    """One MSAB frontend (one Socket.IO connection, one Device). See the module doc.

    ``name`` labels log lines and errors; ``ack_timeout`` bounds every ack wait.
    """

    def __init__(self, name: str = "client", ack_timeout: float = 10.0) -> None:
        self.name = name
        self.ack_timeout = ack_timeout
        self.sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        self.events: list[ServerEvent] = []
        self.errors: list[BaseException] = []  # failures inside fire-and-forget handlers
        self.device: Device | None = None
        self.room_id: str | None = None
        self.join_ack: dict[str, Any] | None = None
        self.send_transport: Transport | None = None
        self.recv_transport: Transport | None = None
        self.send_transport_ack: dict[str, Any] | None = None
        self.recv_transport_ack: dict[str, Any] | None = None
        self.producer: Producer | None = None
        self.producer_id: str | None = None
        self.tone: ToneTrack | None = None
        self.consumers: dict[str, ConsumedAudio] = {}
        self.connect_error: Any = None
        self.disconnected = asyncio.Event() if _loop_running() else None
        self._changed: asyncio.Condition | None = None
        self._consume_all = False
        self._consume_tasks: set[asyncio.Task[Any]] = set()
        self._consume_lock: asyncio.Lock | None = None
        self._produce_errors: list[BaseException] = []
        self._ack_replies: dict[str, Callable[..., Any]] = {}
        self._register_handlers()

    # ----- Socket.IO plumbing ----------------------------------------------------------------

    def _register_handlers(self) -> None:
        @self.sio.on("*")
        async def _any(event: str, *args: Any) -> Any:
            await self._record(event, args)
            reply = self._ack_replies.get(event)
            # python-socketio sends the handler's return value as the ack (when one was asked)
            return reply(*args) if reply is not None else None

        @self.sio.on("connect_error")
        async def _connect_error(data: Any = None) -> None:
            self.connect_error = data

        @self.sio.on("disconnect")
        async def _disconnect(*args: Any) -> None:
            await self._record("disconnect", args)
            if self.disconnected is not None:
                self.disconnected.set()

    def _cond(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _record(self, name: str, args: tuple[Any, ...]) -> None:
        ev = ServerEvent(name=name, data=args[0] if args else None, args=args, time=time.monotonic(),
                         index=len(self.events))
        self.events.append(ev)
        cond = self._cond()
        async with cond:
            cond.notify_all()
        if name == "audio:newProducer" and self._consume_all and isinstance(ev.data, dict):
            self._spawn(self._consume_quietly(ev.data.get("producerId"), ev.data.get("userId")))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._consume_tasks.add(task)
        task.add_done_callback(self._consume_tasks.discard)

    async def connect(self, url: str, token: Any, transports: list[str] | None = None,
                      headers: dict[str, str] | None = None, auth: dict[str, Any] | None = None,
                      wait_timeout: float = 10.0) -> None:
        """Connect to ``url`` (``http://127.0.0.1:PORT``) with ``auth={"token": token}``.

        ``transports``: ``["websocket"]``, ``["polling"]`` or None (polling, then upgrade).
        ``auth`` replaces the whole auth object when given (e.g. to send a non-string token).
        Raises :class:`MsabConnectError` with the server's message on refusal.
        """
        if self.disconnected is None:
            self.disconnected = asyncio.Event()
        self.connect_error = None
        try:
            await self.sio.connect(url, auth=auth if auth is not None else {"token": token},
                                   transports=transports, headers=headers or {},
                                   wait_timeout=wait_timeout)
        except socketio.exceptions.ConnectionError as e:
            data = self.connect_error
            message = data.get("message") if isinstance(data, dict) else (data if isinstance(data, str) else str(e))
            raise MsabConnectError(str(message), data) from e

    @property
    def connected(self) -> bool:
        return self.sio.connected

    @property
    def sid(self) -> str | None:
        return self.sio.get_sid()

    @property
    def transport(self) -> str | None:
        """``"polling"`` or ``"websocket"``: the Engine.IO transport in use."""
        return self.sio.transport() if self.sio.connected else None

    async def call(self, event: str, payload: Any = None, timeout: float | None = None) -> Any:
        """Emit ``event`` with an ack callback and return the ack payload as is."""
        try:
            return await self.sio.call(event, payload, timeout=timeout or self.ack_timeout)
        except socketio.exceptions.TimeoutError:
            raise MsabTimeout(event, f"no ack within {timeout or self.ack_timeout}s") from None

    async def request(self, event: str, payload: Any = None, timeout: float | None = None) -> Any:
        """Like :meth:`call`, but raise :class:`MsabError` on ``{error}`` / ``{success: false}`` acks."""
        ack = await self.call(event, payload, timeout)
        if isinstance(ack, dict) and ("error" in ack or ack.get("success") is False):
            raise MsabError(event, str(ack.get("error", "success: false")), ack)
        return ack

    async def emit(self, event: str, payload: Any = None) -> None:
        """Emit a no-ack event (``chat:message``, ``gift:send``, ``room:leave``, ...)."""
        await self.sio.emit(event, payload)

    def answer_acks(self, event: str, reply: Callable[..., Any]) -> None:
        """When the server emits ``event`` with an ack, answer ``reply(*args)`` (a tuple → several
        ack arguments)."""
        self._ack_replies[event] = reply

    # ----- recorded events --------------------------------------------------------------------

    def events_named(self, name: str) -> list[ServerEvent]:
        return [e for e in self.events if e.name == name]

    def mark(self) -> int:
        """An index to pass as ``after`` so :meth:`wait_for` ignores earlier events."""
        return len(self.events)

    def find(self, name: str | None = None, predicate: Callable[[Any], bool] | None = None,
             after: int = 0) -> ServerEvent | None:
        for e in self.events[after:]:
            if (name is None or e.name == name) and (predicate is None or predicate(e.data)):
                return e
        return None

    async def wait_for(self, name: str | None = None, predicate: Callable[[Any], bool] | None = None,
                       timeout: float = 10.0, after: int = 0) -> ServerEvent:
        """The first recorded event (index ≥ ``after``) named ``name`` whose payload satisfies
        ``predicate``; waits up to ``timeout`` s for it. Raises :class:`MsabTimeout` listing the
        events seen."""
        cond = self._cond()
        deadline = time.monotonic() + timeout
        async with cond:
            while True:
                hit = self.find(name, predicate, after)
                if hit is not None:
                    return hit
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e.name for e in self.events[after:]]
                    raise MsabTimeout(name or "*", f"[{self.name}] event not received within {timeout}s; got {seen}")
                try:
                    await asyncio.wait_for(cond.wait(), left)
                except asyncio.TimeoutError:
                    pass

    async def expect_no(self, name: str, predicate: Callable[[Any], bool] | None = None,
                        within: float = 1.0, after: int = 0) -> None:
        """Assert that no such event arrives within ``within`` seconds."""
        try:
            ev = await self.wait_for(name, predicate, within, after)
        except MsabTimeout:
            return
        raise AssertionError(f"[{self.name}] unexpected {name}: {ev.data!r}")

    # ----- rooms --------------------------------------------------------------------------------

    async def join(self, room_id: Any, **extra: Any) -> dict[str, Any]:
        """``room:join {roomId: str(room_id), **extra}``; returns the ack, loads the Device."""
        rid = str(room_id)
        ack = await self.request("room:join", {"roomId": rid, **extra})
        if not isinstance(ack, dict) or "rtpCapabilities" not in ack:
            raise MsabError("room:join", f"ack without rtpCapabilities: {ack!r}", ack)
        self.room_id = rid
        self.join_ack = ack
        if self.device is None:
            self.device = Device(handlerFactory=AiortcHandler.createFactory())
            await self.device.load(RtpCapabilities(**ack["rtpCapabilities"]))
        if self._consume_all:
            for p in ack.get("existingProducers", []):
                self._spawn(self._consume_quietly(p.get("producerId"), p.get("userId")))
        return ack

    async def leave(self, room_id: Any = None) -> None:
        """``room:leave {roomId}`` (no ack in the contract)."""
        rid = str(room_id if room_id is not None else self.room_id)
        await self.emit("room:leave", {"roomId": rid})
        if rid == self.room_id:
            self.room_id = None

    def _room(self, room_id: Any) -> str:
        rid = room_id if room_id is not None else self.room_id
        if rid is None:
            raise MsabError("room", f"[{self.name}] not joined to a room")
        return str(rid)

    def _need_device(self) -> Device:
        if self.device is None:
            raise MsabError("device", f"[{self.name}] join a room first (the Device loads from its rtpCapabilities)")
        return self.device

    async def _create_transport(self, kind: str, room_id: str) -> dict[str, Any]:
        ack = await self.request("transport:create", {"type": kind, "roomId": room_id})
        for key in ("id", "iceParameters", "iceCandidates", "dtlsParameters"):
            if key not in ack:
                raise MsabError("transport:create", f"ack without {key}: {ack!r}", ack)
        return ack

    def _wire_connect(self, transport: Transport, room_id: str) -> None:
        @transport.on("connect")
        async def on_connect(dtls: DtlsParameters) -> None:
            # Fire-and-forget in pymediasoup: record failures for the test to see.
            try:
                await self.request("transport:connect", {"roomId": room_id, "transportId": transport.id,
                                                         "dtlsParameters": _dump(dtls)})
            except Exception as e:  # noqa: BLE001 - surfaced through self.errors
                log.warning("[%s] transport:connect failed: %r", self.name, e)
                self.errors.append(e)

    # ----- producing ------------------------------------------------------------------------------

    async def produce_tone(self, frequency: float = 440.0, amplitude: float = 0.5,
                           room_id: Any = None) -> str:
        """Create the send transport (first time) and produce a tone; returns the producer id."""
        rid = self._room(room_id)
        device = self._need_device()
        if self.send_transport is None:
            ack = await self._create_transport("producer", rid)
            self.send_transport_ack = ack
            t = device.createSendTransport(
                id=ack["id"], iceParameters=IceParameters(**ack["iceParameters"]),
                iceCandidates=[IceCandidate(**c) for c in ack["iceCandidates"]],
                dtlsParameters=DtlsParameters(**ack["dtlsParameters"]), sctpParameters=None)
            self._wire_connect(t, rid)
            produce_errors = self._produce_errors

            @t.on("produce")
            async def on_produce(kind: str, rtp_parameters: RtpParameters, app_data: Any) -> str:
                try:
                    pack = await self.request("audio:produce", {
                        "roomId": rid, "transportId": t.id, "kind": kind,
                        "rtpParameters": _dump(rtp_parameters)})
                except BaseException as e:
                    produce_errors.append(e)
                    raise
                pid = pack.get("id") if isinstance(pack, dict) else None
                if not isinstance(pid, str):
                    err = MsabError("audio:produce", f"ack without id: {pack!r}", pack)
                    produce_errors.append(err)
                    raise err
                return pid

            self.send_transport = t
        self._produce_errors.clear()
        self.tone = ToneTrack(frequency, amplitude)
        try:
            self.producer = await self.send_transport.produce(track=self.tone, stopTracks=False)
        except BaseException as e:
            if self._produce_errors:
                raise self._produce_errors[0] from e
            raise
        if self._produce_errors:  # pymediasoup swallowed the handler's failure
            raise self._produce_errors[0]
        self.producer_id = self.producer.id
        return self.producer.id

    # ----- consuming ------------------------------------------------------------------------------

    async def _ensure_recv_transport(self, rid: str) -> Transport:
        if self._consume_lock is None:
            self._consume_lock = asyncio.Lock()
        async with self._consume_lock:
            if self.recv_transport is None:
                device = self._need_device()
                ack = await self._create_transport("consumer", rid)
                self.recv_transport_ack = ack
                t = device.createRecvTransport(
                    id=ack["id"], iceParameters=IceParameters(**ack["iceParameters"]),
                    iceCandidates=[IceCandidate(**c) for c in ack["iceCandidates"]],
                    dtlsParameters=DtlsParameters(**ack["dtlsParameters"]))
                self._wire_connect(t, rid)
                self.recv_transport = t
            return self.recv_transport

    async def consume(self, producer_id: str, user_id: Any = None, room_id: Any = None) -> ConsumedAudio:
        """``audio:consume`` one producer on the receive transport, then ``consumer:resume``."""
        if producer_id in self.consumers:
            return self.consumers[producer_id]
        rid = self._room(room_id)
        device = self._need_device()
        t = await self._ensure_recv_transport(rid)
        ack = await self.request("audio:consume", {
            "roomId": rid, "transportId": t.id, "producerId": producer_id,
            "rtpCapabilities": _dump(device.rtpCapabilities)})
        for key in ("id", "producerId", "kind", "rtpParameters"):
            if key not in ack:
                raise MsabError("audio:consume", f"ack without {key}: {ack!r}", ack)
        consumer = await t.consume(id=ack["id"], producerId=ack["producerId"], kind=ack["kind"],
                                   rtpParameters=RtpParameters(**ack["rtpParameters"]))
        recorder = AudioRecorder(consumer.track)
        entry = ConsumedAudio(producer_id=producer_id, user_id=user_id, consumer_id=ack["id"],
                              consumer=consumer, recorder=recorder, ack=ack)
        self.consumers[producer_id] = entry
        await self.request("consumer:resume", {"roomId": rid, "consumerId": ack["id"]})
        return entry

    async def _consume_quietly(self, producer_id: Any, user_id: Any) -> None:
        if not isinstance(producer_id, str):
            self.errors.append(MsabError("audio:newProducer", f"bad producerId {producer_id!r}"))
            return
        try:
            await self.consume(producer_id, user_id)
        except Exception as e:  # noqa: BLE001 - surfaced through self.errors
            log.warning("[%s] consuming %s failed: %r", self.name, producer_id, e)
            self.errors.append(e)

    async def consume_all(self, room_id: Any = None) -> None:
        """Consume every producer of the room: those in the join ack now, later ones as they are
        announced by ``audio:newProducer``. Failures land in :attr:`errors`."""
        rid = self._room(room_id)
        self._consume_all = True
        await self._ensure_recv_transport(rid)
        for p in (self.join_ack or {}).get("existingProducers", []):
            await self._consume_quietly(p.get("producerId"), p.get("userId"))

    async def wait_consumers(self, count: int, timeout: float = 10.0) -> list[ConsumedAudio]:
        """Wait until at least ``count`` consumers exist (e.g. after ``audio:newProducer``)."""
        deadline = time.monotonic() + timeout
        while len(self.consumers) < count:
            if self.errors:
                raise self.errors[0]
            if time.monotonic() >= deadline:
                raise MsabTimeout("audio:consume", f"[{self.name}] {len(self.consumers)}/{count} consumers after {timeout}s")
            await asyncio.sleep(0.05)
        return list(self.consumers.values())

    async def capture(self, producer_id: str, seconds: float, timeout: float | None = None) -> Capture:
        """Audio of one consumed producer arriving from now on (see :class:`AudioRecorder`)."""
        return await self.consumers[producer_id].recorder.capture(seconds, timeout)

    async def capture_all(self, seconds: float, timeout: float | None = None) -> dict[str, Capture]:
        """:meth:`capture` for every consumed producer at once, keyed by producer id."""
        ids = list(self.consumers)
        caps = await asyncio.gather(*(self.capture(i, seconds, timeout) for i in ids))
        return dict(zip(ids, caps))

    # ----- teardown -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop media, close transports and disconnect. Safe to call more than once."""
        self._consume_all = False
        for task in list(self._consume_tasks):
            task.cancel()
        for c in list(self.consumers.values()):
            await c.recorder.stop()
        for t in (self.send_transport, self.recv_transport):
            if t is not None and not t.closed:
                try:
                    await t.close()
                except Exception as e:  # noqa: BLE001 - teardown goes on
                    log.debug("[%s] transport close: %r", self.name, e)
        if self.tone is not None:
            self.tone.stop()
        self.send_transport = self.recv_transport = None
        if self.sio.connected:
            try:
                await asyncio.wait_for(self.sio.disconnect(), 10)
            except asyncio.TimeoutError:
                log.warning("[%s] disconnect did not finish within 10 s", self.name)
        # A refused or timed-out connect leaves Engine.IO's HTTP session open.
        http = getattr(self.sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()

    async def __aenter__(self) -> "MsabClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False
