"""Headless Chromium driven over the DevTools protocol, for browser interop tests.

msab must work with an unchanged browser frontend (mediasoup-client + socket.io-client in
Chromium). :class:`Chromium` starts ``/usr/bin/chromium`` headless with the WebRTC flags of
media-notes.md (fake microphone that plays a beep, no permission prompt, loopback candidates
allowed), a temporary ``--user-data-dir`` and a free remote-debugging port (Chromium picks it:
``--remote-debugging-port=0``, read back from ``DevToolsActivePort``). :meth:`Chromium.page`
returns a :class:`Page` connected to the first tab's ``webSocketDebuggerUrl`` (via ``/json/list``)
with ``evaluate`` (``Runtime.evaluate`` with ``awaitPromise`` and ``returnByValue``) and
``navigate``. ``stop()`` (or leaving the ``with`` block) always kills every process of the
browser's session (it is started in a session of its own, and helpers such as crashpad leave its
process group but not its session), reaps them, and removes the profile directory.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from typing import Any

import websocket  # websocket-client

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")

WEBRTC_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
]


def _session_pids(sid: int) -> list[int]:
    """Pids of the live (non-zombie) processes whose session id is ``sid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # fields: state ppid pgrp session ...
        if len(fields) > 3 and fields[3] == str(sid) and fields[0] != "Z":
            out.append(int(entry))
    return out


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


_subreaper_set = False


def _become_subreaper() -> None:
    """Make this process inherit the browser's orphaned helpers, so :func:`_reap` can collect them.

    Without it, helpers whose parent died are re-parented to PID 1, which in a container may
    never reap them, and every test would leave zombies behind.
    """
    global _subreaper_set
    if _subreaper_set:
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass
    _subreaper_set = True


def _end_session(proc: subprocess.Popen[Any]) -> None:
    """Ends a browser started in a session of its own: SIGTERM to every process of the session,
    then SIGKILL to whatever is left (helpers such as zygotes, renderers or crashpad, in their own
    process groups, may outlive the main process), then reaps them."""
    sid = proc.pid
    pids = set(_session_pids(sid)) | {sid}
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    pids |= set(_session_pids(sid))
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    _reap(pids - {sid}, 5.0)


def _reap(pids: set[int], timeout: float) -> None:
    """Wait for the given (re-parented) pids; pids that are not our children are skipped."""
    deadline = time.monotonic() + timeout
    pending = set(pids)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pending.discard(pid)
                continue
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.05)


class ChromiumError(RuntimeError):
    """Chromium failed to start, or a CDP call failed."""


class JavaScriptError(ChromiumError):
    """``Runtime.evaluate`` reported an exception (or a rejected promise)."""

    def __init__(self, description: str, details: dict[str, Any]) -> None:
        super().__init__(description)
        self.details = details


class Page:
    """One DevTools target (a tab). Console messages are collected in :attr:`console`."""

    def __init__(self, ws_url: str, timeout: float = 30.0) -> None:
        # suppress_origin: Chromium refuses DevTools websockets whose Origin is not allow-listed.
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self._ids = itertools.count(1)
        self.console: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.send("Runtime.enable")
        self.send("Page.enable")

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Send a CDP command and return its ``result`` (events seen meanwhile are kept)."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChromiumError(f"CDP {method} got no answer within {timeout}s")
            self.ws.settimeout(left)
            try:
                raw = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                raise ChromiumError(f"CDP {method} got no answer within {timeout}s") from None
            msg = json.loads(raw)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise ChromiumError(f"CDP {method} failed: {msg['error']}")
                return msg.get("result", {})
            if msg.get("method") == "Runtime.consoleAPICalled":
                p = msg["params"]
                self.console.append({"type": p.get("type"),
                                     "text": " ".join(str(a.get("value", a.get("description", "")))
                                                      for a in p.get("args", []))})
            elif "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression: str, timeout: float = 30.0, await_promise: bool = True) -> Any:
        """Evaluate JavaScript in the page and return its value (JSON-serialisable results).

        Promises are awaited. A thrown exception or rejected promise raises
        :class:`JavaScriptError` with the JavaScript description.
        """
        result = self.send("Runtime.evaluate", {
            "expression": expression,
            "awaitPromise": await_promise,
            "returnByValue": True,
            "timeout": int(timeout * 1000),
        }, timeout=timeout + 5)
        if "exceptionDetails" in result:
            d = result["exceptionDetails"]
            desc = d.get("exception", {}).get("description") or d.get("exception", {}).get("value") or d.get("text")
            raise JavaScriptError(str(desc), d)
        return result.get("result", {}).get("value")

    def navigate(self, url: str, timeout: float = 30.0) -> None:
        """Open ``url`` and wait until ``document.readyState`` is ``complete``."""
        self.send("Page.navigate", {"url": url}, timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate("document.readyState", timeout=5) == "complete" and \
                        self.evaluate("location.href", timeout=5) != "about:blank":
                    return
            except JavaScriptError:
                pass
            time.sleep(0.1)
        raise ChromiumError(f"{url} did not finish loading within {timeout}s")

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


class Chromium:
    """A headless Chromium process. ``with Chromium() as c: page = c.page(); page.evaluate("1+1")``."""

    def __init__(self, url: str = "about:blank", extra_flags: list[str] | None = None,
                 binary: str = CHROMIUM, preferences: dict[str, Any] | None = None) -> None:
        self.binary = binary
        # Written to the new profile's Default/Preferences before launch (e.g.
        # {"webrtc": {"ip_handling_policy": "disable_non_proxied_udp"}}: Chromium 156 has no
        # --force-webrtc-ip-handling-policy switch any more, the profile preference still works).
        self.preferences = dict(preferences or {})
        self.start_url = url
        self.extra_flags = list(extra_flags or [])
        self.profile_dir = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = ""
        self._pages: list[Page] = []

    def start(self, timeout: float = 30.0) -> "Chromium":
        self.profile_dir = tempfile.mkdtemp(prefix="msab-chromium-")
        self.log_path = os.path.join(self.profile_dir, "chromium.log")
        if self.preferences:
            os.makedirs(os.path.join(self.profile_dir, "Default"), exist_ok=True)
            with open(os.path.join(self.profile_dir, "Default", "Preferences"), "w") as f:
                json.dump(self.preferences, f)
        args = [self.binary, *WEBRTC_FLAGS, "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", f"--user-data-dir={self.profile_dir}",
                *self.extra_flags, self.start_url]
        _become_subreaper()
        # Chromium puts its singleton socket in $TMPDIR/org.chromium.Chromium.*, and a killed
        # browser leaves it behind: give it a TMPDIR inside the profile, which stop() removes.
        tmp = os.path.join(self.profile_dir, "tmp")
        os.mkdir(tmp)
        env = {**os.environ, "TMPDIR": tmp}
        log = open(self.log_path, "wb")
        try:
            # Own session = own process group: stop() can end the browser and all its helpers.
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=env)
        finally:
            log.close()
        port_file = os.path.join(self.profile_dir, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with open(port_file) as f:
                    first = f.readline().strip()
                if first.isdigit():
                    self.port = int(first)
                    self._json("/json/version")
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        log_text = self._log()
        self.stop()
        raise ChromiumError(f"Chromium did not expose DevTools within {timeout}s.\n{log_text}")

    def _log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-8000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _json(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
            return json.loads(r.read())

    def targets(self) -> list[dict[str, Any]]:
        """``/json/list``: the open targets."""
        return self._json("/json/list")

    def page(self, timeout: float = 30.0) -> Page:
        """A :class:`Page` for the first tab (waits for one to appear)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pages = [t for t in self.targets() if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
            if pages:
                p = Page(pages[0]["webSocketDebuggerUrl"], timeout)
                self._pages.append(p)
                return p
            time.sleep(0.1)
        raise ChromiumError("no page target appeared")

    def stop(self) -> None:
        """Close pages, kill every process of the browser's session, remove the profile directory."""
        for p in self._pages:
            p.close()
        self._pages.clear()
        if self.proc is not None:
            _end_session(self.proc)
            self.proc = None
        if self.profile_dir:
            shutil.rmtree(self.profile_dir, ignore_errors=True)
            self.profile_dir = ""

    def __enter__(self) -> "Chromium":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class StaticServer:
    """Serve a directory (or a ``{path: content}`` dict written to a temp dir) on 127.0.0.1.

    For browser tests: ``http://127.0.0.1`` is a secure context, so ``getUserMedia`` works.
    Runs ``http.server`` in a daemon thread on a free port; ``stop()`` shuts it down.
    """

    def __init__(self, directory: str | None = None, files: dict[str, str | bytes] | None = None) -> None:
        self._tmp = None
        if directory is None:
            self._tmp = tempfile.mkdtemp(prefix="msab-static-")
            directory = self._tmp
        for name, content in (files or {}).items():
            path = os.path.join(directory, name.lstrip("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(content.encode() if isinstance(content, str) else content)
        self.directory = directory
        self.httpd: Any = None
        self.thread: Any = None
        self.port = 0

    def start(self) -> "StaticServer":
        import functools
        import http.server
        import threading

        class QuietHandler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

        handler = functools.partial(QuietHandler, directory=self.directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="static-http", daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.thread is not None:
            self.thread.join(5)
            self.thread = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "StaticServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
