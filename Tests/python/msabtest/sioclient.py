"""A blocking python-socketio client that records every event, for signalling tests written
without asyncio (:class:`msabtest.client.MsabClient` is the asyncio one, with media).

:class:`Client` connects with ``auth={"token": …}`` (WebSocket only unless ``transports`` says
otherwise), keeps every event it receives in arrival order and offers :meth:`Client.call`
(an acknowledged emit), :meth:`Client.received` and :meth:`Client.wait_for`. :func:`joined` makes
a room of such clients; :func:`refusal` returns the ``connect_error`` message of a connection the
server refuses.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterable

import pytest
import socketio


class Client:
    """A python-socketio client that records every event it receives.

    ``server`` is anything with a ``url`` (an :class:`msabtest.server.MsabServer`); ``token``
    None connects without auth.
    """

    def __init__(self, server: Any, token: str | None, transports: Iterable[str] | None = ("websocket",),
                 headers: dict[str, str] | None = None) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.cond = threading.Condition()

        @self.sio.on("*")
        def _any(event: str, *args: Any) -> None:
            with self.cond:
                self.events.append((event, args[0] if args else None))
                self.cond.notify_all()

        self.sio.connect(server.url, auth={"token": token} if token is not None else None,
                         transports=list(transports) if transports else None, headers=headers or {}, wait_timeout=10)

    def call(self, event: str, data: Any, timeout: float = 10) -> Any:
        return self.sio.call(event, data, timeout=timeout)

    def emit(self, event: str, data: Any) -> None:
        self.sio.emit(event, data)

    def received(self, event: str) -> list[Any]:
        """The payloads of every ``event`` received so far."""
        with self.cond:
            return [p for e, p in self.events if e == event]

    def wait_for(self, event: str, predicate: Callable[[Any], bool] = lambda p: True, timeout: float = 5) -> Any:
        """The first ``event`` (received before or within ``timeout``) whose payload satisfies ``predicate``."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for e, p in self.events:
                    if e == event and predicate(p):
                        return p
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise AssertionError(f"no {event} matching within {timeout}s; got {self.events}")
                self.cond.wait(remaining)

    def clear(self) -> None:
        with self.cond:
            self.events.clear()

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass


def joined(server: Any, room: str, people: Iterable[tuple[str, int, str | None]], settle: float) -> dict[str, Client]:
    """One :class:`Client` per ``(name, user id, role in room or None)``, keyed by name, each joined
    to ``room``; after ``settle`` seconds (the join broadcasts have arrived) every client's events are
    cleared. Each client's ``uid`` attribute is its user id."""
    made: dict[str, Client] = {}
    for name, uid, role in people:
        c = Client(server, server.token(uid, name, roles=[(room, role)] if role else []))
        c.uid = uid  # type: ignore[attr-defined]
        c.call("room:join", {"roomId": room})
        made[name] = c
    time.sleep(settle)
    for c in made.values():
        c.clear()
    return made


def refusal(server: Any, auth: Any = None, headers: dict[str, str] | None = None,
            transports: Iterable[str] = ("websocket",)) -> Any:
    """The connect_error message of a refused connection (python-socketio raises a generic
    ConnectionError and reports the server's message through the connect_error event)."""
    sio = socketio.Client(reconnection=False)
    messages: list[Any] = []
    sio.on("connect_error", lambda data: messages.append(data.get("message") if isinstance(data, dict) else data))
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(server.url, auth=auth, headers=headers or {}, transports=list(transports), wait_timeout=10)
        assert len(messages) == 1, messages
        return messages[0]
    finally:
        sio.disconnect()
