"""msabtest: the Python side of msab's real-peer tests — the one test-support package every test
file (and Benchmarks/join_latency.py) imports; pytest fixtures over it are in ../conftest.py.

Modules:
- :mod:`msabtest.audio` — ToneTrack (aiortc audio source) and audio analysis (frequency, level).
- :mod:`msabtest.loopback` — aioice patch so ICE uses 127.0.0.1 host candidates only.
- :mod:`msabtest.laravel` — Laravel backend stand-in (contract §7.1), in a thread or a subprocess.
- :mod:`msabtest.server` — start/stop the msab binary (``MsabServer``, ``MsabServer.small``, and
  ``serve_once`` for configurations it must refuse) and a throw-away redis-server; free ports
  (``free_port``, ``free_tcp_port``, ``free_port_range``), ``clean_env``, ``rss_kb``.
- :mod:`msabtest.client` — MsabClient, an MSAB frontend in Python (python-socketio + pymediasoup).
- :mod:`msabtest.sioclient` — ``Client``, a blocking python-socketio client that records every
  event, and ``refusal`` (the message of a refused connection).
- :mod:`msabtest.metrics` — ``/metrics`` samples (``metric``, ``metric_total``), ``wait_metric``
  and ``wait_until`` (poll any probe until a condition holds).
- :mod:`msabtest.rtp_params` — hand-written Opus ``rtpParameters`` / ``rtpCapabilities``.
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
