"""A stand-in for the FlyLive Laravel backend, following contract §7.1 exactly.

msab's "with the FlyLive backend" mode calls Laravel over HTTP; tests replace only that backend
(design.md §5) with this small aiohttp server bound to 127.0.0.1 on a free port. It serves:

| route name | method & path                                              | answer                                   |
|------------|------------------------------------------------------------|------------------------------------------|
| ``auth``   | ``POST /api/v1/internal/auth/validate``                    | user JSON for a known Bearer user token, else 401 |
| ``status`` | ``POST /api/v1/internal/rooms/{id}/status``                | ``{"success": true}`` (body checked: ``is_live``, ``participant_count``, ``ended_at?``) |
| ``room``   | ``GET /api/v1/internal/rooms/{id}``                        | ``{"id", "owner_id": N, ...}`` or 404     |
| ``role``   | ``GET /api/v1/internal/rooms/{id}/members/{userId}/role``  | ``{"role": ...}`` or 404                  |
| ``gifts``  | ``POST /api/v1/internal/gifts/batch``                      | ``{"processed_count": n, "failed": [...]}`` |

Headers are checked as §7.1 states: every call needs ``X-Internal-Key: <key>`` and
``Accept: application/json``; internal calls (all but ``auth``) need
``Authorization: Bearer <key>``; ``auth`` needs ``Authorization: Bearer <user token>``; calls with
a body need ``Content-Type: application/json``. A request that misses one is recorded with its
``header_problems`` and answered 401.

Every request (control calls excepted) is recorded as a :class:`RecordedRequest` (route, method,
path, headers, raw body, parsed JSON, status answered, header problems, injected failure).
Failures can be injected per route with :meth:`LaravelStandIn.fail`: an HTTP error status, a hang
(no answer until the hang time passes or the failures are reset), a malformed (non-JSON) 200 body
or a well-formed JSON body of the wrong shape, for N requests or until :meth:`reset_failures`.

Two ways to run it:
- in process: ``LaravelStandIn(...).start()`` serves from a background thread with its own event
  loop, so synchronous pytest tests and asyncio tests can both use it; ``stop()`` ends it.
- as a subprocess: ``python -m msabtest.laravel --key K [--fixtures file.json]`` prints
  ``LISTENING http://127.0.0.1:PORT``; :class:`LaravelProcess` starts one and drives it through the
  control API under ``/_standin/`` (same method names as the in-process class, JSON results).
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from aiohttp import web

ROUTES = ("auth", "status", "room", "role", "gifts")
FAILURE_MODES = ("error", "hang", "malformed", "shape")
CONTROL_PREFIX = "/_standin"


def make_user(user_id: int, name: str, **overrides: Any) -> dict[str, Any]:
    """A user object in the shape Laravel returns from ``auth/validate`` (contract §2.4)."""
    user: dict[str, Any] = {
        "id": user_id,
        "name": name,
        "signature": f"{name}'s bio",
        "email": f"{name.lower()}@example.test",
        "avatar": f"https://cdn.example.test/avatars/{user_id}.png",
        "frame": "gold",
        "gender": "female" if user_id % 2 else "male",
        "date_of_birth": "1990-01-01",
        "phone": f"+100000{user_id:05d}",
        "country": "US",
        "coins": "100.00",
        "diamonds": "5.00",
        "wealth_xp": "10",
        "charm_xp": "20",
        "is_blocked": False,
        "isSpeaker": False,
    }
    user.update(overrides)
    return user


def sanctum_token(user_id: int, secret: str | None = None) -> str:
    """A token in Sanctum's ``"<id>|<plaintext>"`` shape."""
    return f"{user_id}|{secret or os.urandom(20).hex()}"


@dataclass
class RecordedRequest:
    """One request the stand-in received (header names kept as sent; use :meth:`header`)."""

    route: str | None
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any
    time: float
    status: int = 0
    header_problems: list[str] = field(default_factory=list)
    injected: str | None = None
    match: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers.items():
            if k.lower() == lname:
                return v
        return None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["body"] = self.body.decode("utf-8", "replace")
        return d

    @staticmethod
    def from_json(d: dict[str, Any]) -> "RecordedRequest":
        d = dict(d)
        d["body"] = d.get("body", "").encode()
        return RecordedRequest(**d)


@dataclass
class _Failure:
    mode: str
    remaining: int | None  # None = until reset
    status: int = 500
    hang_seconds: float = 60.0


class LaravelStandIn:
    """The stand-in server. Construct, :meth:`start`, use :attr:`url`, :meth:`stop`.

    ``users`` maps a Sanctum token string to the user JSON returned for it; ``rooms`` maps a room
    id string to the room JSON (must hold ``owner_id``); ``roles`` maps ``(room_id, user_id)`` to a
    role string. All tables may be changed while the server runs.
    """

    def __init__(self, internal_key: str | None = None,
                 users: dict[str, dict[str, Any]] | None = None,
                 rooms: dict[str, dict[str, Any]] | None = None,
                 roles: dict[tuple[str, int], str] | None = None,
                 require_accept: bool = True) -> None:
        self.internal_key = internal_key or ("k" * 8 + os.urandom(16).hex())
        self.users: dict[str, dict[str, Any]] = dict(users or {})
        self.rooms: dict[str, dict[str, Any]] = dict(rooms or {})
        self.roles: dict[tuple[str, int], str] = dict(roles or {})
        # transaction_id -> (code, reason) that the gifts route reports as failed.
        self.gift_failures: dict[str, tuple[int, str]] = {}
        # Failures by gift_id, for tests that cannot know the server-made transaction ids.
        self.gift_id_failures: dict[int, tuple[int, str]] = {}
        # transaction ids settled so far (Laravel de-duplicates on transaction_id, §7.1).
        self.settled: dict[str, dict[str, Any]] = {}
        self.require_accept = require_accept
        self.url = ""
        self.port = 0
        self._records: list[RecordedRequest] = []
        self._failures: dict[str, _Failure] = {}
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    # ----- tables -------------------------------------------------------------------------

    def add_user(self, token: str, user: dict[str, Any]) -> None:
        with self._cond:
            self.users[token] = user

    def user_token(self, user_id: int, name: str, **overrides: Any) -> str:
        """A new Sanctum token for ``make_user(user_id, name, **overrides)``, who /auth/me now knows."""
        token = sanctum_token(user_id)
        self.add_user(token, make_user(user_id, name, **overrides))
        return token

    def remove_user(self, token: str) -> None:
        with self._cond:
            self.users.pop(token, None)

    def set_room(self, room_id: str | int, owner_id: int, **extra: Any) -> None:
        with self._cond:
            self.rooms[str(room_id)] = {"id": int(room_id) if str(room_id).isdigit() else str(room_id),
                                        "owner_id": owner_id, **extra}

    def set_role(self, room_id: str | int, user_id: int, role: str | None) -> None:
        with self._cond:
            if role is None:
                self.roles.pop((str(room_id), int(user_id)), None)
            else:
                self.roles[(str(room_id), int(user_id))] = role

    def fail_gift(self, transaction_id: str, code: int = 422, reason: str = "Insufficient balance") -> None:
        with self._cond:
            self.gift_failures[transaction_id] = (code, reason)

    # ----- failure injection -----------------------------------------------------------------

    def fail_gift_id(self, gift_id: int, code: int = 422, reason: str = "Insufficient balance") -> None:
        """Report every transaction of this gift id as failed (Laravel's per-transaction failure)."""
        with self._cond:
            self.gift_id_failures[gift_id] = (code, reason)

    def fail(self, route: str, mode: str = "error", times: int | None = None, status: int = 500,
             hang_seconds: float = 60.0) -> None:
        """Make the next ``times`` requests to ``route`` (all of them when None) fail.

        ``mode``: ``"error"`` answers ``status`` with a JSON error body; ``"hang"`` answers nothing
        for ``hang_seconds`` (or until :meth:`reset_failures` / :meth:`stop`), then 504;
        ``"malformed"`` answers 200 with a body that is not JSON; ``"shape"`` answers 200 with
        valid JSON of the wrong shape (e.g. a room without ``owner_id``, a gift reply without
        ``failed``). Requests with bad headers are answered 401 before any injected failure.
        """
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {ROUTES}")
        if mode not in FAILURE_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; one of {FAILURE_MODES}")
        with self._cond:
            self._failures[route] = _Failure(mode, times, status, hang_seconds)

    def reset_failures(self) -> None:
        """Clear every injected failure and release hanging requests."""
        with self._cond:
            self._failures.clear()
        self._release_hangs()

    def _release_hangs(self) -> None:
        loop, ev = self._loop, self._release
        if loop is not None and ev is not None and not loop.is_closed():
            def swap() -> None:
                ev.set()
                self._release = asyncio.Event()
            try:
                loop.call_soon_threadsafe(swap)
            except RuntimeError:
                pass

    def _take_failure(self, route: str) -> _Failure | None:
        with self._cond:
            f = self._failures.get(route)
            if f is None:
                return None
            if f.remaining is not None:
                f.remaining -= 1
                if f.remaining <= 0:
                    del self._failures[route]
            return copy.copy(f)

    # ----- recording -------------------------------------------------------------------------

    def requests(self, route: str | None = None) -> list[RecordedRequest]:
        """A copy of the recorded requests (only ``route``'s when given), oldest first."""
        with self._cond:
            return [r for r in self._records if route is None or r.route == route]

    def clear(self) -> None:
        with self._cond:
            self._records.clear()

    def wait_for(self, predicate: Callable[[RecordedRequest], bool], timeout: float = 10.0,
                 count: int = 1) -> list[RecordedRequest]:
        """Block until ``count`` recorded (and answered) requests satisfy ``predicate``.

        Returns them; raises ``TimeoutError`` listing what was recorded otherwise.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hits = [r for r in self._records if r.status and predicate(r)]
                if len(hits) >= count:
                    return hits
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(r.route, r.method, r.path, r.status) for r in self._records]
                    raise TimeoutError(f"{count} matching request(s) not seen in {timeout}s; recorded: {seen}")
                self._cond.wait(left)

    def wait_route(self, route: str, timeout: float = 10.0, count: int = 1) -> list[RecordedRequest]:
        return self.wait_for(lambda r: r.route == route, timeout, count)

    def _record(self, rec: RecordedRequest) -> None:
        with self._cond:
            self._records.append(rec)

    def _answered(self, rec: RecordedRequest, status: int) -> None:
        with self._cond:
            rec.status = status
            self._cond.notify_all()

    # ----- HTTP ------------------------------------------------------------------------------

    def _header_problems(self, req: web.Request, route: str, has_body: bool) -> list[str]:
        problems = []
        if req.headers.get("X-Internal-Key") != self.internal_key:
            problems.append("X-Internal-Key missing or wrong" if "X-Internal-Key" in req.headers
                            else "X-Internal-Key missing")
        if self.require_accept and "application/json" not in req.headers.get("Accept", ""):
            problems.append("Accept: application/json missing")
        auth = req.headers.get("Authorization")
        if route == "auth":
            if not auth or not auth.startswith("Bearer ") or not auth[7:].strip():
                problems.append("Authorization: Bearer <user token> missing")
        elif auth != f"Bearer {self.internal_key}":
            problems.append("Authorization: Bearer <internal key> missing or wrong")
        if has_body and not req.headers.get("Content-Type", "").startswith("application/json"):
            problems.append("Content-Type: application/json missing")
        return problems

    async def _handle(self, req: web.Request) -> web.StreamResponse:
        route = req.match_info.route.name
        body = await req.read()
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        rec = RecordedRequest(route=route, method=req.method, path=req.path, query=req.query_string,
                              headers=dict(req.headers), body=body, json=parsed, time=time.time(),
                              match=dict(req.match_info))
        self._record(rec)
        resp = await self._respond(req, route, rec, body, parsed)
        self._answered(rec, resp.status)
        return resp

    async def _respond(self, req: web.Request, route: str, rec: RecordedRequest, body: bytes,
                       parsed: Any) -> web.Response:
        rec.header_problems = self._header_problems(req, route, has_body=bool(body))
        if rec.header_problems:
            return web.json_response({"message": "Unauthenticated.", "problems": rec.header_problems}, status=401)
        failure = self._take_failure(route)
        if failure is not None:
            rec.injected = failure.mode
            if failure.mode == "error":
                return web.json_response({"message": "Server Error"}, status=failure.status)
            if failure.mode == "malformed":
                return web.Response(status=200, body=b'{"owner_id": 1, "role": "adm', content_type="application/json")
            if failure.mode == "shape":
                return web.json_response({"data": None, "unexpected": True}, status=200)
            if failure.mode == "hang":
                release = self._release
                assert release is not None
                try:
                    await asyncio.wait_for(release.wait(), failure.hang_seconds)
                except asyncio.TimeoutError:
                    pass
                return web.json_response({"message": "Gateway Timeout"}, status=504)
        return getattr(self, f"_route_{route}")(req, parsed, rec)

    def _route_auth(self, req: web.Request, parsed: Any, rec: RecordedRequest) -> web.Response:
        token = req.headers["Authorization"][7:].strip()
        with self._cond:
            user = self.users.get(token)
        if user is None:
            return web.json_response({"message": "Unauthenticated."}, status=401)
        return web.json_response(user)

    def _route_status(self, req: web.Request, parsed: Any, rec: RecordedRequest) -> web.Response:
        problems = []
        if not isinstance(parsed, dict):
            problems.append("body is not a JSON object")
        else:
            if not isinstance(parsed.get("is_live"), bool):
                problems.append("is_live must be a boolean")
            pc = parsed.get("participant_count")
            if not isinstance(pc, int) or isinstance(pc, bool) or pc < 0:
                problems.append("participant_count must be a non-negative integer")
            if "ended_at" in parsed and not isinstance(parsed["ended_at"], str):
                problems.append("ended_at must be an ISO-8601 string")
        if problems:
            return web.json_response({"message": "The given data was invalid.", "errors": problems}, status=422)
        return web.json_response({"success": True})

    def _route_room(self, req: web.Request, parsed: Any, rec: RecordedRequest) -> web.Response:
        with self._cond:
            room = self.rooms.get(req.match_info["room_id"])
        if room is None:
            return web.json_response({"message": "Room not found."}, status=404)
        return web.json_response(room)

    def _route_role(self, req: web.Request, parsed: Any, rec: RecordedRequest) -> web.Response:
        try:
            uid = int(req.match_info["user_id"])
        except ValueError:
            return web.json_response({"message": "Not a member."}, status=404)
        with self._cond:
            role = self.roles.get((req.match_info["room_id"], uid))
        if role is None:
            return web.json_response({"message": "Not a member."}, status=404)
        return web.json_response({"role": role})

    _GIFT_FIELDS = ("transaction_id", "room_id", "sender_id", "recipient_id", "gift_id", "quantity", "timestamp")

    def _route_gifts(self, req: web.Request, parsed: Any, rec: RecordedRequest) -> web.Response:
        txs = parsed.get("transactions") if isinstance(parsed, dict) else None
        if not isinstance(txs, list):
            return web.json_response({"message": "transactions must be a list"}, status=422)
        processed = 0
        failed = []
        with self._cond:
            for tx in txs:
                if not isinstance(tx, dict) or any(k not in tx for k in self._GIFT_FIELDS):
                    tid = tx.get("transaction_id") if isinstance(tx, dict) else None
                    failed.append({"transaction_id": tid, "code": 422, "reason": "Malformed transaction"})
                    continue
                tid = tx["transaction_id"]
                by_gift = self.gift_id_failures.get(tx.get("gift_id"))
                if tid in self.gift_failures or by_gift:
                    code, reason = self.gift_failures.get(tid) or by_gift
                    failed.append({"transaction_id": tid, "code": code, "reason": reason})
                    continue
                if tid not in self.settled:  # de-duplicate on transaction_id
                    self.settled[tid] = tx
                processed += 1
        return web.json_response({"processed_count": processed, "failed": failed})

    # ----- control API (for the subprocess mode) ---------------------------------------------

    async def _control(self, req: web.Request) -> web.Response:
        action = req.match_info["action"]
        data: Any = {}
        if req.method == "POST" and req.can_read_body:
            try:
                data = await req.json()
            except ValueError:
                return web.json_response({"error": "control body must be JSON"}, status=400)
        try:
            if action == "requests" and req.method == "GET":
                route = req.query.get("route")
                return web.json_response([r.to_json() for r in self.requests(route)])
            if action == "info":
                return web.json_response({"url": self.url, "internal_key": self.internal_key})
            if action == "settled":
                with self._cond:
                    return web.json_response(self.settled)
            if action == "clear":
                self.clear()
            elif action == "fail":
                self.fail(data["route"], data.get("mode", "error"), data.get("times"),
                          data.get("status", 500), data.get("hang_seconds", 60.0))
            elif action == "reset":
                self.reset_failures()
            elif action == "user":
                self.add_user(data["token"], data["user"])
            elif action == "remove_user":
                self.remove_user(data["token"])
            elif action == "room":
                self.set_room(data["room_id"], data["owner_id"], **data.get("extra", {}))
            elif action == "role":
                self.set_role(data["room_id"], data["user_id"], data.get("role"))
            elif action == "fail_gift":
                self.fail_gift(data["transaction_id"], data.get("code", 422), data.get("reason", "Insufficient balance"))
            else:
                return web.json_response({"error": f"unknown control action {action}"}, status=404)
        except (KeyError, ValueError, TypeError) as e:
            return web.json_response({"error": f"bad control request: {e!r}"}, status=400)
        return web.json_response({"ok": True})

    def _app(self) -> web.Application:
        app = web.Application()
        p = "/api/v1/internal"
        app.router.add_post(f"{p}/auth/validate", self._handle, name="auth")
        app.router.add_post(f"{p}/rooms/{{room_id}}/status", self._handle, name="status")
        app.router.add_get(f"{p}/rooms/{{room_id}}/members/{{user_id}}/role", self._handle, name="role")
        app.router.add_get(f"{p}/rooms/{{room_id}}", self._handle, name="room")
        app.router.add_post(f"{p}/gifts/batch", self._handle, name="gifts")
        app.router.add_route("*", f"{CONTROL_PREFIX}/{{action}}", self._control)
        return app

    # ----- lifecycle ---------------------------------------------------------------------------

    async def start_async(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on the running event loop (used by the thread and the subprocess modes)."""
        self._loop = asyncio.get_running_loop()
        self._release = asyncio.Event()
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{self.port}"
        return self.url

    async def stop_async(self) -> None:
        if self._release is not None:
            self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> "LaravelStandIn":
        """Serve from a daemon thread; returns once the port is bound."""
        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as e:  # report to start()
                self._start_error = e
                self._started.set()
                loop.close()
                return
            self._started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop_async())
                loop.close()

        self._thread = threading.Thread(target=run, name="laravel-standin", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("Laravel stand-in did not start within 10 s")
        if self._start_error is not None:
            raise RuntimeError(f"Laravel stand-in failed to start: {self._start_error!r}")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            self._release_hangs()
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        self._thread = None

    def __enter__(self) -> "LaravelStandIn":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The environment msab needs to use this backend (contract §8.2 names)."""
        return {"LARAVEL_API_URL": self.url, "LARAVEL_INTERNAL_KEY": self.internal_key}


class LaravelProcess:
    """The stand-in in a subprocess, driven through its ``/_standin/`` control API.

    Same method names as :class:`LaravelStandIn` for the control side; recorded requests come
    back as :class:`RecordedRequest` objects rebuilt from JSON.
    """

    def __init__(self, internal_key: str | None = None, fixtures: dict[str, Any] | None = None,
                 python: str | None = None) -> None:
        import tempfile
        self.internal_key = internal_key or ("k" * 8 + os.urandom(16).hex())
        self._fixtures_file = None
        args = [python or sys.executable, "-m", "msabtest.laravel", "--key", self.internal_key]
        if fixtures:
            f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
            json.dump(fixtures, f)
            f.close()
            self._fixtures_file = f.name
            args += ["--fixtures", f.name]
        self._args = args
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> "LaravelProcess":
        pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = pkg_root + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(self._args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 20
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("LISTENING "):
                self.url = line.split()[1]
                return self
        self.stop()
        raise RuntimeError(f"Laravel stand-in subprocess did not start: {''.join(lines)}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
        if self._fixtures_file:
            os.unlink(self._fixtures_file)
            self._fixtures_file = None

    def __enter__(self) -> "LaravelProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _call(self, action: str, data: dict[str, Any] | None = None, method: str = "POST",
              params: dict[str, str] | None = None) -> Any:
        import requests
        r = requests.request(method, f"{self.url}{CONTROL_PREFIX}/{action}", json=data, params=params, timeout=10)
        r.raise_for_status()
        return r.json()

    def requests(self, route: str | None = None) -> list[RecordedRequest]:
        data = self._call("requests", method="GET", params={"route": route} if route else None)
        return [RecordedRequest.from_json(d) for d in data]

    def wait_for(self, predicate: Callable[[RecordedRequest], bool], timeout: float = 10.0,
                 count: int = 1) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        while True:
            hits = [r for r in self.requests() if r.status and predicate(r)]
            if len(hits) >= count:
                return hits
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{count} matching request(s) not seen in {timeout}s")
            time.sleep(0.05)

    def wait_route(self, route: str, timeout: float = 10.0, count: int = 1) -> list[RecordedRequest]:
        return self.wait_for(lambda r: r.route == route, timeout, count)

    def clear(self) -> None:
        self._call("clear")

    def fail(self, route: str, mode: str = "error", times: int | None = None, status: int = 500,
             hang_seconds: float = 60.0) -> None:
        self._call("fail", {"route": route, "mode": mode, "times": times, "status": status,
                            "hang_seconds": hang_seconds})

    def reset_failures(self) -> None:
        self._call("reset")

    def add_user(self, token: str, user: dict[str, Any]) -> None:
        self._call("user", {"token": token, "user": user})

    def remove_user(self, token: str) -> None:
        self._call("remove_user", {"token": token})

    def set_room(self, room_id: str | int, owner_id: int, **extra: Any) -> None:
        self._call("room", {"room_id": str(room_id), "owner_id": owner_id, "extra": extra})

    def set_role(self, room_id: str | int, user_id: int, role: str | None) -> None:
        self._call("role", {"room_id": str(room_id), "user_id": user_id, "role": role})

    def fail_gift(self, transaction_id: str, code: int = 422, reason: str = "Insufficient balance") -> None:
        self._call("fail_gift", {"transaction_id": transaction_id, "code": code, "reason": reason})

    @property
    def settled(self) -> dict[str, Any]:
        return self._call("settled", method="GET")

    def env(self) -> dict[str, str]:
        return {"LARAVEL_API_URL": self.url, "LARAVEL_INTERNAL_KEY": self.internal_key}


def _load_fixtures(stand_in: LaravelStandIn, path: str) -> None:
    """Fixture file: ``{"users": {token: user}, "rooms": {id: room}, "roles": [[room, user, role]]}``."""
    with open(path) as f:
        data = json.load(f)
    for token, user in data.get("users", {}).items():
        stand_in.add_user(token, user)
    for room_id, room in data.get("rooms", {}).items():
        stand_in.rooms[str(room_id)] = room
    for room_id, user_id, role in data.get("roles", []):
        stand_in.set_role(room_id, user_id, role)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True, help="LARAVEL_INTERNAL_KEY the requests must carry")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fixtures", help="JSON file with users/rooms/roles")
    args = ap.parse_args(argv)
    stand_in = LaravelStandIn(args.key)
    if args.fixtures:
        _load_fixtures(stand_in, args.fixtures)

    async def run() -> None:
        url = await stand_in.start_async("127.0.0.1", args.port)
        print(f"LISTENING {url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await stand_in.stop_async()

    asyncio.run(run())


if __name__ == "__main__":
    main()


def settled_transaction_ids(standin) -> list[str]:
    """The transaction ids of every gift batch the stand-in accepted (200, not an injected
    failure), in arrival order: what Laravel has settled. Works with either stand-in class."""
    ids: list[str] = []
    for req in standin.requests("gifts"):
        if req.status == 200 and req.injected is None:
            ids += [t["transaction_id"] for t in req.json["transactions"]]
    return ids
