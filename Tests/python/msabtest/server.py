"""Start and stop the processes a real-peer test talks to: the msab binary and redis-server.

:class:`MsabServer` runs ``msab serve`` (binary from ``$MSAB_BIN``, default ``.build/debug/msab``
under the repository root) with a temporary ``MSAB_DATA_DIR``, ``PORT`` = a free TCP port,
``MEDIASOUP_LISTEN_IP``/``MEDIASOUP_ANNOUNCED_IP`` = 127.0.0.1, a free RTC port range
(``MEDIASOUP_RTC_MIN_PORT``/``MAX_PORT``), a random 48-character ``MSAB_JWT_SECRET`` and any extra
environment the test gives. ``start()`` waits until ``GET /health`` answers 200 (30 s by default)
and raises :class:`ServerError` carrying the server log otherwise. ``stop()`` sends SIGTERM and
SIGKILL after 5 s; ``kill()`` sends SIGKILL at once; ``restart()`` starts it again with the same
data directory and port. ``token()`` mints a JWT with ``msab token --user N --name X [--role R=role]``
under the same environment (same secret / data dir), so the server accepts it.
:meth:`MsabServer.small` is the configuration most signalling tests want (one media worker on one
RTC port, warnings-only log, CORS for its own origin, nothing inherited from the runner's
``MSAB_``/``LARAVEL_``/``REDIS_``/``MEDIASOUP_`` variables); :func:`serve_once` runs ``msab serve``
that is expected to exit (a configuration error) and returns its output.

:class:`RedisServer` runs ``redis-server`` on a free 127.0.0.1 port (redis cannot bind port 0), or
on a given one, with ``--save "" --appendonly no`` in a temporary directory and offers
:meth:`RedisServer.command`, a tiny RESP client, so tests can inspect keys without a redis client
library; :meth:`RedisServer.kill` / :meth:`RedisServer.restart` crash and restart it on its port,
:meth:`RedisServer.pause` / :meth:`RedisServer.resume` stall it (SIGSTOP / SIGCONT).
``MsabServer.start(healthy=False)`` accepts a degraded start (``/health`` 503, e.g. Redis down).

Both clean up after themselves (processes and temporary directories) and bind only 127.0.0.1.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Iterable

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HOST = "127.0.0.1"


# A fixed JWT secret for tests that mint or check tokens without a server (test_cli.py).
SECRET = "test-secret-0123456789abcdef0123456789"
# The runner's variables a test server must not inherit (a developer's shell may set any of them).
RUNNER_PREFIXES = ("MSAB_", "LARAVEL_", "REDIS_", "MEDIASOUP_")


class ServerError(RuntimeError):
    """A managed process failed to start or to answer; the message includes its log."""


def clean_env(**extra: Any) -> dict[str, str]:
    """This process's environment without :data:`RUNNER_PREFIXES` variables, plus ``extra``
    (values turned into strings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(RUNNER_PREFIXES)}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that was free a moment ago for ``kind`` (bound with port 0, then released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return free_port(socket.SOCK_STREAM)


def rss_kb(pid: int) -> int:
    """The resident set size of process ``pid`` in KiB (``VmRSS`` of /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def cpu_times(pid: int) -> tuple[float, float]:
    """``(user, system)`` CPU seconds of process ``pid`` (all threads) so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" closing comm: fields[0] is state (field 3), so utime (14) and stime (15) are 11 and 12.
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` (all threads) so far, in seconds."""
    return sum(cpu_times(pid))


def _port_free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                return False
    return True


def free_port_range(count: int = 20, low: int = 20000, high: int = 60000) -> tuple[int, int]:
    """``(min, max)`` of ``count`` consecutive ports free for both UDP and TCP on 127.0.0.1."""
    rng = secrets.SystemRandom()
    for _ in range(200):
        start = rng.randrange(low, high - count)
        if all(_port_free(p) for p in range(start, start + count)):
            return start, start + count - 1
    raise ServerError(f"no run of {count} free ports found in {low}..{high}")


def default_msab_bin() -> str:
    """``$MSAB_BIN``, else ``<repo>/.build/debug/msab``."""
    path = os.environ.get("MSAB_BIN") or os.path.join(REPO_ROOT, ".build", "debug", "msab")
    return path if os.path.isabs(path) else os.path.join(REPO_ROOT, path)


def serve_once(data_dir: str | None = None, binary: str | None = None, timeout: float = 60.0,
               **env: Any) -> subprocess.CompletedProcess[str]:
    """Run ``msab serve`` on a free loopback port with one media worker and ``env`` under
    :func:`clean_env`, for a configuration msab must refuse: it is expected to exit (within
    ``timeout``). ``data_dir`` is the ``MSAB_DATA_DIR``; without it a temporary one is made and
    removed."""
    own = data_dir is None
    data = tempfile.mkdtemp(prefix="msab-serve-once-") if own else data_dir
    full = clean_env(MSAB_DATA_DIR=data, PORT=free_port(), MSAB_HOST=HOST, MEDIASOUP_LISTEN_IP=HOST,
                     MEDIASOUP_NUM_WORKERS=1, **env)
    try:
        return subprocess.run([binary or default_msab_bin(), "serve"], env=full, capture_output=True, text=True,
                              timeout=timeout)
    finally:
        if own:
            shutil.rmtree(data, ignore_errors=True)


def _tail(path: str, limit: int = 20000) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "<no log>"
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else "…" + text[-limit:]


def _terminate(proc: subprocess.Popen[Any], grace: float) -> int | None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


class MsabServer:
    """One msab process under test. Use as a context manager or call start/stop.

    ``env`` is added to (and overrides) the defaults; ``binary`` defaults to
    :func:`default_msab_bin`. ``url`` is ``http://127.0.0.1:PORT`` once started, ``log_path`` the
    file that collects stdout and stderr of every run, ``data_dir`` the ``MSAB_DATA_DIR``.
    ``inherit_env=False`` leaves the runner's :data:`RUNNER_PREFIXES` variables out (see
    :func:`clean_env`); ``preexec_fn`` runs in the child before exec (e.g. a resource limit);
    ``tls_ca``: the server serves HTTPS (the test sets ``SSL_KEY_PATH``/``SSL_CERT_PATH``),
    ``url`` is ``https://…`` and ``/health`` is verified against this CA file.
    """

    def __init__(self, binary: str | None = None, env: dict[str, str] | None = None,
                 data_dir: str | None = None, rtc_ports: int = 20,
                 extra_args: Iterable[str] = (), host: str = HOST, inherit_env: bool = True,
                 preexec_fn: Any = None, tls_ca: str | None = None) -> None:
        self.binary = binary or default_msab_bin()
        self.inherit_env = inherit_env
        self.preexec_fn = preexec_fn
        self.tls_ca = tls_ca
        # host: the address msab binds (HTTP and media) and announces; loopback unless a test
        # gives it another local address (the Firefox test: a veth address, msabtest/netns.py).
        self.host = host
        self._own_tmp = tempfile.mkdtemp(prefix="msab-test-")
        self.data_dir = data_dir or os.path.join(self._own_tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self._own_tmp, "msab.log")
        self.port = free_tcp_port()
        self.rtc_min, self.rtc_max = free_port_range(rtc_ports)
        self.extra_args = list(extra_args)
        self.env: dict[str, str] = {
            "MSAB_DATA_DIR": self.data_dir,
            "MSAB_HOST": host,  # tests bind loopback only (or a test's own veth address)
            "PORT": str(self.port),
            "MEDIASOUP_LISTEN_IP": host,
            "MEDIASOUP_ANNOUNCED_IP": host,
            "MEDIASOUP_RTC_MIN_PORT": str(self.rtc_min),
            "MEDIASOUP_RTC_MAX_PORT": str(self.rtc_max),
            "MSAB_JWT_SECRET": secrets.token_hex(24),
        }
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self.starts = 0

    @classmethod
    def small(cls, binary: str | None = None, tls_ca: str | None = None, **env: Any) -> "MsabServer":
        """The configuration most signalling tests use: one media worker on one RTC port (free on
        UDP and TCP), ``LOG_LEVEL=warning``, ``CORS_ORIGINS`` = its own origin, nothing inherited
        from the runner's ``MSAB_``/… variables; ``env`` (values turned into strings) overrides."""
        server = cls(binary=binary, rtc_ports=1, inherit_env=False, tls_ca=tls_ca)
        server.env.update({"MEDIASOUP_NUM_WORKERS": "1", "CORS_ORIGINS": server.url, "LOG_LEVEL": "warning"})
        server.env.update({k: str(v) for k, v in env.items()})
        return server

    @property
    def url(self) -> str:
        return f"{'https' if self.tls_ca else 'http'}://{self.host}:{self.port}"

    @property
    def rtc_port(self) -> int:
        """The first (with :meth:`small`, the only) RTC port."""
        return self.rtc_min

    def _ssl_context(self) -> Any:
        import ssl
        return ssl.create_default_context(cafile=self.tls_ca) if self.tls_ca else None

    def available(self) -> bool:
        return os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)

    def _process_env(self) -> dict[str, str]:
        env = dict(os.environ) if self.inherit_env else clean_env()
        env.update(self.env)
        return env

    def log(self) -> str:
        """Everything the server printed so far (all runs)."""
        return _tail(self.log_path, 10**9)

    def start(self, timeout: float = 30.0, healthy: bool = True) -> "MsabServer":
        """Start ``msab serve`` and wait for ``GET /health``: 200 when ``healthy``, else any answer
        (200 or 503 — e.g. a Redis-mode node started while Redis is down is up but degraded)."""
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("msab is already running")
        if not self.available():
            raise ServerError(f"msab binary not found or not executable: {self.binary} (set MSAB_BIN)")
        self._log_file = open(self.log_path, "ab")
        self.starts += 1
        self._log_file.write(f"\n===== msab start #{self.starts} =====\n".encode())
        self._log_file.flush()
        self.proc = subprocess.Popen([self.binary, "serve", *self.extra_args], env=self._process_env(),
                                     cwd=self._own_tmp, stdin=subprocess.DEVNULL,
                                     stdout=self._log_file, stderr=subprocess.STDOUT, preexec_fn=self.preexec_fn)
        try:
            self.wait_healthy(timeout, accept=(200,) if healthy else (200, 503))
        except ServerError:
            self._stop_process(5.0)
            raise
        return self

    def wait_healthy(self, timeout: float = 30.0, accept: tuple[int, ...] = (200,)) -> dict[str, Any] | None:
        """Poll ``GET /health`` until its status is in ``accept`` (200 by default); returns its JSON
        body (None if not JSON)."""
        import json
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerError(f"msab exited with status {self.proc.returncode} before /health answered.\n"
                                  f"--- server log ---\n{_tail(self.log_path)}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2, context=self._ssl_context()) as r:
                    status, body = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, body = e.code, e.read()
            except (urllib.error.URLError, OSError) as e:
                status, body, last = 0, b"", repr(e)
            if status in accept:
                try:
                    return json.loads(body)
                except ValueError:
                    return None
            if status:
                last = f"HTTP {status}: {body[:200]!r}"
            time.sleep(0.1)
        raise ServerError(f"msab /health did not answer {'/'.join(map(str, accept))} within {timeout}s (last: {last}).\n"
                          f"--- server log ---\n{_tail(self.log_path)}")

    def health(self, timeout: float = 5.0) -> tuple[int, Any]:
        """``GET /health`` once: ``(status, parsed body)``."""
        return self.http("/health", timeout=timeout)

    def _stop_process(self, grace: float) -> int | None:
        status = None
        if self.proc is not None:
            status = _terminate(self.proc, grace)
            self.proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return status

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, SIGKILL after ``grace`` s. Returns the exit status (negative = signal)."""
        return self._stop_process(grace)

    def kill(self) -> int | None:
        """SIGKILL at once (a crash, as far as clients and Redis can tell)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        return self._stop_process(5.0)

    def restart(self, timeout: float = 30.0, hard: bool = False) -> "MsabServer":
        """Stop (SIGKILL when ``hard``) and start again with the same data dir, port and env."""
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start(timeout)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def token(self, user: int, name: str | None = None,
              roles: dict[str, str] | Iterable[tuple[str, str]] | None = None,
              ttl: int | None = None, extra_args: Iterable[str] = ()) -> str:
        """Mint a token with ``msab token --user N [--name X] [--role ROOM=ROLE ...] [--ttl S]``.

        ``roles``: ``{room: role}`` or ``[(room, role), …]``.
        Runs under the server's environment (same ``MSAB_JWT_SECRET`` / ``MSAB_DATA_DIR``), so
        the server accepts it. The token is the last non-empty line msab prints on stdout.
        """
        args = [self.binary, "token", "--user", str(user)]
        if name:
            args += ["--name", name]
        for room, role in (roles.items() if isinstance(roles, dict) else roles or ()):
            args += ["--role", f"{room}={role}"]
        if ttl:
            args += ["--ttl", str(ttl)]
        args += list(extra_args)
        r = subprocess.run(args, env=self._process_env(), cwd=self._own_tmp, capture_output=True,
                           text=True, timeout=30)
        lines = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
        if r.returncode != 0 or not lines:
            raise ServerError(f"`{' '.join(args[1:])}` failed (status {r.returncode}):\n{r.stdout}\n{r.stderr}")
        return lines[-1]

    def http(self, path: str, method: str = "GET", json_body: Any = None,
             headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, Any]:
        """A plain HTTP call to the server; returns ``(status, parsed JSON or text)``."""
        import json
        data = None if json_body is None else json.dumps(json_body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers=dict(headers or {}))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self._ssl_context()) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        text = body.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def close(self) -> None:
        """Stop the process and remove the temporary directory (data dir included if ours)."""
        self.stop()
        shutil.rmtree(self._own_tmp, ignore_errors=True)

    def __enter__(self) -> "MsabServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


class RedisServer:
    """A throw-away redis-server on 127.0.0.1 (no persistence).

    ``port``: a fixed port (e.g. one msab was already told about while Redis is still down);
    without it :meth:`start` picks a free one. :meth:`kill` is a crash (SIGKILL, all data gone,
    as without persistence), :meth:`restart` starts it again on the same port.
    """

    def __init__(self, binary: str = "redis-server", port: int | None = None) -> None:
        self.binary = shutil.which(binary) or binary
        self.dir = tempfile.mkdtemp(prefix="msab-redis-")
        self.port = port or 0
        self._fixed_port = port is not None
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = os.path.join(self.dir, "redis.log")
        self._paused = False

    def available(self) -> bool:
        return os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)

    def start(self, timeout: float = 10.0) -> "RedisServer":
        if not self.available():
            raise ServerError(f"redis-server not found ({self.binary}); `make apt` installs it")
        last_error = ""
        for _ in range(5):  # a port picked free can be taken before redis binds it: try again
            if not self._fixed_port:
                self.port = free_tcp_port()
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
                 "--dir", self.dir, "--logfile", self.log_path, "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.command("PING") == "PONG":
                        return self
                except OSError as e:
                    last_error = repr(e)
                time.sleep(0.05)
            _terminate(self.proc, 2.0)
            self.proc = None
            last_error += "\n" + _tail(self.log_path, 4000)
            if self._fixed_port:
                time.sleep(0.2)  # the old process's socket may still be closing
        raise ServerError(f"redis-server did not start: {last_error}")

    def kill(self) -> None:
        """SIGKILL (a crash: clients see their connections reset, every key is lost)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def pause(self) -> None:
        """SIGSTOP: Redis stalls (connections stay open, nothing is answered), as in a network
        partition or a long fork stall. :meth:`resume` (or :meth:`stop`) ends it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)
            self._paused = True

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self._paused = False

    def restart(self, hard: bool = True, timeout: float = 10.0) -> "RedisServer":
        """Kill (SIGKILL when ``hard``, else SIGTERM) and start again on the same port."""
        if hard:
            self.kill()
        else:
            self.stop()
        self._fixed_port = True
        return self.start(timeout)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}"

    def env(self, db: int | None = None) -> dict[str, str]:
        """``REDIS_HOST`` / ``REDIS_PORT`` (and ``REDIS_DB``) for msab (contract §8.2)."""
        e = {"REDIS_HOST": HOST, "REDIS_PORT": str(self.port)}
        if db is not None:
            e["REDIS_DB"] = str(db)
        return e

    def command(self, *args: Any, db: int | None = None, timeout: float = 5.0) -> Any:
        """Send one command (after ``SELECT db`` when given) and return the decoded reply."""
        with socket.create_connection((HOST, self.port), timeout=timeout) as s:
            f = s.makefile("rb")
            if db is not None:
                s.sendall(_resp_encode(["SELECT", db]))
                _resp_read(f)
            s.sendall(_resp_encode(list(args)))
            return _resp_read(f)

    def stop(self) -> None:
        if self.proc is not None:
            if self._paused:
                self.resume()  # a stopped process would hold SIGTERM until SIGKILL
            _terminate(self.proc, 5.0)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


class RedisReplyError(Exception):
    """An ``-ERR …`` reply from redis."""


def _resp_encode(args: list[Any]) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(f"${len(b)}\r\n".encode() + b + b"\r\n")
    return b"".join(out)


def _resp_read(f: Any) -> Any:
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisReplyError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    raise OSError(f"unexpected redis reply {line!r}")
