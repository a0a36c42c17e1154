"""An msab cluster for tests: one throw-away redis-server and N ``msab serve`` nodes sharing it.

:class:`Cluster` starts a :class:`~msabtest.server.RedisServer` on a free 127.0.0.1 port (or
leaves it down, for a start-without-Redis test) and N :class:`~msabtest.server.MsabServer` nodes
on their own free ports with ``REDIS_HOST``/``REDIS_PORT``/``REDIS_DB`` pointing at it. The nodes
share one ``MSAB_JWT_SECRET`` (a token minted by any node works on every node, as behind a load
balancer) and one ``MSAB_INTERNAL_KEY``; each keeps its own data directory. Extra environment for
all nodes (``env``) or per node (``node_env``) is merged in, and a Laravel stand-in's ``env()``
when given.

Tests talk to it with:

- :meth:`Cluster.client` — a connected :class:`~msabtest.client.MsabClient` on node *i*
  (websocket transport), closed by :meth:`Cluster.close_clients`;
- :meth:`Cluster.redis_cmd` and the readers :meth:`Cluster.seats`, :meth:`Cluster.locked_seats`,
  :meth:`Cluster.room_state`, :meth:`Cluster.participant_count`, :meth:`Cluster.keys` — the
  cluster's Redis DB as the contract's keys (§6.2) and msab's own (``room:{id}:users``) hold it;
- :meth:`Cluster.publish_event` (``flylive:msab:events``, contract §7.2) and
  :meth:`Cluster.post_event` (``POST /internal/events`` on one node);
- :meth:`Cluster.kill_redis` / :meth:`Cluster.start_redis` (same port) and
  :meth:`Cluster.wait_health` for outage tests; ``cluster.nodes[i].kill()`` for a node crash.

:meth:`Cluster.close` stops every node and redis-server and removes their directories.
"""
from __future__ import annotations

import json
import secrets
import time
from typing import Any, Awaitable, Sequence, TypeVar

from . import run
from .server import HOST, MsabServer, RedisServer, ServerError, free_tcp_port

EVENTS_CHANNEL = "flylive:msab:events"
T = TypeVar("T")


class Cluster:
    """See the module doc. ``db`` is ``REDIS_DB`` (a non-default one, so a node that ignores the
    setting shows up as keys in the wrong DB)."""

    def __init__(self, binary: str, nodes: int = 2, env: dict[str, str] | None = None,
                 node_env: Sequence[dict[str, str] | None] = (), db: int = 5, laravel: Any = None,
                 redis: RedisServer | None = None) -> None:
        self.binary = binary
        self.db = db
        self.redis = redis or RedisServer()
        self.secret = secrets.token_hex(24)
        self.internal_key = "cluster-internal-" + secrets.token_hex(16)
        self.env = dict(env or {})
        self.laravel = laravel
        self.node_count = nodes
        self.node_env = list(node_env)
        self.nodes: list[MsabServer] = []
        self._clients: list[Any] = []

    # ----- lifecycle ----------------------------------------------------------------------------

    def start(self, redis_up: bool = True, timeout: float = 30.0) -> "Cluster":
        """Start Redis (unless ``redis_up`` is False: then only a port is chosen for it) and the
        nodes; with Redis up each node must answer ``/health`` 200, without it any answer."""
        if not self.redis.available():
            raise ServerError(f"redis-server not found ({self.redis.binary}); `make apt` installs it")
        if redis_up:
            self.redis.start()
        else:
            self.redis.port = free_tcp_port()
            self.redis._fixed_port = True  # start_redis() later binds the port the nodes were told
        for i in range(self.node_count):
            self.add_node(self.node_env[i] if i < len(self.node_env) else None, healthy=redis_up, timeout=timeout)
        return self

    def node_environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env: dict[str, str] = {}
        if self.laravel is not None:
            env.update(self.laravel.env())
        env.update({"REDIS_HOST": HOST, "REDIS_PORT": str(self.redis.port), "REDIS_DB": str(self.db),
                    "MSAB_JWT_SECRET": self.secret, "MSAB_INTERNAL_KEY": self.internal_key,
                    "MEDIASOUP_NUM_WORKERS": "1", "LOG_LEVEL": "info"})
        env.update(self.env)
        env.update(extra or {})
        return env

    def add_node(self, env: dict[str, str] | None = None, healthy: bool = True, timeout: float = 30.0) -> MsabServer:
        """One more node on the same Redis (started)."""
        node = MsabServer(binary=self.binary, env=self.node_environment(env), rtc_ports=4)
        self.nodes.append(node)
        return node.start(timeout, healthy=healthy)

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        self.redis.close()

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def logs(self) -> str:
        """Every node's log, for assertion messages."""
        return "\n".join(f"--- node {i} ({n.url}) ---\n{n.log()[-6000:]}" for i, n in enumerate(self.nodes))

    def run(self, coro: Awaitable[T], timeout: float = 60.0) -> T:
        """:func:`msabtest.run`, printing every node's log (:meth:`logs`) when it fails or times out."""
        try:
            return run(coro, timeout)
        except BaseException:
            print(self.logs())
            raise

    # ----- clients ------------------------------------------------------------------------------

    def token(self, user: int, name: str, roles: dict[str, str] | None = None) -> str:
        """A token every node accepts (they share the secret)."""
        return self.nodes[0].token(user, name, roles)

    async def client(self, node: int, user: int, name: str, roles: dict[str, str] | None = None,
                     token: str | None = None) -> Any:
        """A :class:`MsabClient` named ``name@node`` connected to node ``node`` over websocket."""
        from .client import MsabClient  # imported here: it pulls in aiortc/pymediasoup
        c = MsabClient(f"{name}@{node}")
        self._clients.append(c)
        await c.connect(self.nodes[node].url, token or self.token(user, name, roles), transports=["websocket"])
        c.user_id = user  # type: ignore[attr-defined]
        c.node = node  # type: ignore[attr-defined]
        return c

    async def close_clients(self) -> None:
        for c in self._clients:
            try:
                await c.close()
            except Exception:  # noqa: BLE001 - teardown goes on
                pass
        self._clients.clear()

    # ----- Redis ----------------------------------------------------------------------------------

    def redis_cmd(self, *args: Any, db: int | None = None) -> Any:
        """One command on the cluster's DB (or ``db``)."""
        return self.redis.command(*args, db=self.db if db is None else db)

    def seats(self, room: str) -> dict[int, dict[str, Any]]:
        """``HGETALL room:{room}:seats`` → {seat index: decoded JSON value}."""
        flat = self.redis_cmd("HGETALL", f"room:{room}:seats") or []
        return {int(flat[i]): json.loads(flat[i + 1]) for i in range(0, len(flat), 2)}

    def locked_seats(self, room: str) -> set[int]:
        return {int(x) for x in self.redis_cmd("SMEMBERS", f"room:{room}:locked_seats") or []}

    def room_state(self, room: str) -> dict[str, Any] | None:
        """``room:state:{room}`` (contract §6.2: ``{id, status, participantCount, ...}``), or None."""
        text = self.redis_cmd("GET", f"room:state:{room}")
        return None if text is None else json.loads(text)

    def room_users(self, room: str) -> dict[int, int]:
        """msab's ``room:{room}:users`` hash: user id → that user's sockets in the room (its
        length is the participant count)."""
        flat = self.redis_cmd("HGETALL", f"room:{room}:users") or []
        return {int(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    def participant_count(self, room: str) -> tuple[int, Any]:
        """``(distinct users in room:{room}:users, room:state:{room}.participantCount)``."""
        state = self.room_state(room)
        return len(self.room_users(room)), None if state is None else state.get("participantCount")

    def keys(self, pattern: str = "*", db: int | None = None) -> list[str]:
        return sorted(self.redis_cmd("KEYS", pattern, db=db) or [])

    def publish_event(self, event: str, user_id: int | None, room_id: Any, payload: Any,
                      **extra: Any) -> int:
        """PUBLISH a §7.2 message on ``flylive:msab:events``; returns the subscriber count."""
        body = {"event": event, "user_id": user_id, "room_id": room_id, "payload": payload, **extra}
        return self.redis.command("PUBLISH", EVENTS_CHANNEL, json.dumps(body))

    def post_event(self, node: int, event: str, user_id: int | None, room_id: Any, payload: Any) -> tuple[int, Any]:
        """``POST /internal/events`` on node ``node`` with the shared internal key."""
        return self.nodes[node].http("/internal/events", method="POST",
                                     json_body={"event": event, "user_id": user_id, "room_id": room_id, "payload": payload},
                                     headers={"X-Internal-Key": self.internal_key})

    def kill_redis(self) -> None:
        """SIGKILL redis-server (the data goes with it: no persistence)."""
        self.redis.kill()

    def start_redis(self) -> None:
        """Start redis-server (again) on the port the nodes were given."""
        self.redis._fixed_port = True
        self.redis.start()

    def wait_health(self, status: int, timeout: float, nodes: Sequence[int] | None = None) -> float:
        """Poll every node's ``/health`` until each answers ``status``; returns the seconds it took.
        Raises AssertionError with the last answers otherwise."""
        started = time.monotonic()
        pending = set(range(len(self.nodes)) if nodes is None else nodes)
        last: dict[int, Any] = {}
        while pending:
            for i in sorted(pending):
                try:
                    last[i] = self.nodes[i].health(timeout=2)
                except OSError as e:
                    last[i] = repr(e)
                if isinstance(last[i], tuple) and last[i][0] == status:
                    pending.discard(i)
            if not pending:
                break
            if time.monotonic() - started > timeout:
                raise AssertionError(f"/health not {status} within {timeout}s on nodes {sorted(pending)}: "
                                     f"{ {i: last.get(i) for i in pending} }")
            time.sleep(0.1)
        return time.monotonic() - started
