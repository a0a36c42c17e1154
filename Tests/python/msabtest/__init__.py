"""msabtest: the Python side of msab's real-peer tests.

Modules:
- :mod:`msabtest.audio` — ToneTrack (aiortc audio source) and audio analysis (frequency, level).
- :mod:`msabtest.loopback` — aioice patch so ICE uses 127.0.0.1 host candidates only.
- :mod:`msabtest.laravel` — Laravel backend stand-in (contract §7.1), in a thread or a subprocess.
- :mod:`msabtest.server` — start/stop the msab binary and a throw-away redis-server.
- :mod:`msabtest.client` — MsabClient, an MSAB frontend in Python (python-socketio + pymediasoup).
- :mod:`msabtest.chromium` — headless Chromium over CDP, and a static file server for its pages.
- :mod:`msabtest.cluster` — one redis-server + N msab nodes (Redis scale-out), with Redis readers.
- :mod:`msabtest.adapter_peer` — a Socket.IO Redis-adapter peer: Node/PHP emitter messages and a
  Node.js adapter node (requests, answers) on PyPI ``msgpack`` + ``redis``.

:func:`run` runs a coroutine to completion with a time limit; tests use it instead of an asyncio
pytest plugin (``def test_x(): run(body())``).
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, TypeVar

T = TypeVar("T")


def run(coro: Awaitable[T], timeout: float = 60.0) -> T:
    """``asyncio.run`` with a time limit: raises ``TimeoutError`` when ``coro`` takes longer."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())
