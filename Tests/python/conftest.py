"""pytest fixtures for msab's real-peer tests (see msabtest/__init__.py for the helpers).

Fixtures:
- ``laravel`` — a started :class:`msabtest.laravel.LaravelStandIn` (stopped after the test).
- ``redis_server`` — a started :class:`msabtest.server.RedisServer` (removed after the test).
- ``msab_bin`` — path of the msab binary; skips the test when it is not built.
- ``msab_factory`` — ``msab_factory(env=None, laravel=None, redis=None, **kw)`` starts an
  :class:`msabtest.server.MsabServer` (with ``laravel.env()`` / ``redis.env()`` merged into its
  env when given) and closes every server it started after the test.
- ``msab`` — one stand-alone msab server (``msab_factory()``).
- ``cluster`` — ``cluster(nodes=2, env=None, node_env=(), db=5, laravel=None, redis_up=True)``
  starts a :class:`msabtest.cluster.Cluster` (one redis-server + N msab nodes on free loopback
  ports; Redis left down when ``redis_up`` is False) and closes every one it started after the
  test. A missing redis-server fails the test (the Makefile installs it), it never skips.
- ``chromium`` — a started :class:`msabtest.chromium.Chromium`; ``static_site`` — a
  ``StaticServer`` factory taking ``files={path: content}``.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable, Iterator

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from msabtest.chromium import Chromium, StaticServer  # noqa: E402
from msabtest.cluster import Cluster  # noqa: E402
from msabtest.laravel import LaravelStandIn  # noqa: E402
from msabtest.server import MsabServer, RedisServer, default_msab_bin  # noqa: E402


@pytest.fixture
def laravel() -> Iterator[LaravelStandIn]:
    stand_in = LaravelStandIn().start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    r = RedisServer().start()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def msab_bin() -> str:
    path = default_msab_bin()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        # `make test` sets MSAB_BIN: there a missing binary is a failure, never a silent skip.
        if os.environ.get("MSAB_BIN"):
            pytest.fail(f"MSAB_BIN={path} is not an executable")
        pytest.skip(f"msab binary not built: {path} (build it or set MSAB_BIN)")
    return path


@pytest.fixture
def msab_factory(msab_bin: str) -> Iterator[Callable[..., MsabServer]]:
    started: list[MsabServer] = []

    def factory(env: dict[str, str] | None = None, laravel: Any = None, redis: Any = None,
                **kwargs: Any) -> MsabServer:
        full: dict[str, str] = {}
        if laravel is not None:
            full.update(laravel.env())
        if redis is not None:
            full.update(redis.env())
        full.update(env or {})
        server = MsabServer(binary=msab_bin, env=full, **kwargs)
        started.append(server)
        return server.start()

    try:
        yield factory
    finally:
        for s in started:
            s.close()


@pytest.fixture
def msab(msab_factory: Callable[..., MsabServer]) -> MsabServer:
    return msab_factory()


@pytest.fixture
def cluster(msab_bin: str) -> Iterator[Callable[..., Cluster]]:
    started: list[Cluster] = []

    def factory(nodes: int = 2, env: dict[str, str] | None = None, node_env: Any = (), db: int = 5,
                laravel: Any = None, redis_up: bool = True) -> Cluster:
        c = Cluster(msab_bin, nodes=nodes, env=env, node_env=node_env, db=db, laravel=laravel)
        if not c.redis.available():
            pytest.fail(f"redis-server is not installed ({c.redis.binary}); `make apt` installs it")
        started.append(c)
        return c.start(redis_up=redis_up)

    try:
        yield factory
    finally:
        for c in started:
            c.close()


@pytest.fixture
def chromium() -> Iterator[Chromium]:
    browser = Chromium().start()
    try:
        yield browser
    finally:
        browser.stop()


@pytest.fixture
def static_site() -> Iterator[Callable[..., StaticServer]]:
    servers: list[StaticServer] = []

    def factory(files: dict[str, str | bytes] | None = None, directory: str | None = None) -> StaticServer:
        s = StaticServer(directory=directory, files=files).start()
        servers.append(s)
        return s

    try:
        yield factory
    finally:
        for s in servers:
            s.stop()
