"""Headless Firefox ESR driven through its built-in WebDriver BiDi remote agent (no geckodriver).

``Firefox(netns=…).start()`` runs ``firefox-esr --headless --remote-debugging-port=0`` with a fresh
temporary profile whose ``user.js`` turns on fake media devices (a fake microphone that beeps, no
permission prompt, autoplay allowed), optionally inside a network namespace
(:class:`msabtest.netns.VethHost`), reads the agent's port from the line Firefox prints
("WebDriver BiDi listening on ws://127.0.0.1:PORT") and opens a BiDi session over a WebSocket.
``page()`` returns a :class:`FirefoxPage` for the first tab, with the same small surface as
:class:`msabtest.chromium.Page`: ``navigate(url)``, ``evaluate(expression)`` (promises awaited,
JSON-serialisable results), ``console``; plus ``screenshot()`` (PNG bytes) and ``set_viewport``.
``stop()`` ends the session, kills every process of the browser and removes the profile.

The WebSocket must carry no Origin header: the agent refuses any Origin it does not expect.
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from typing import Any

import websocket

from msabtest import netns as netns_mod
from msabtest.chromium import _become_subreaper, _end_session

FIREFOX = os.environ.get("MSAB_FIREFOX", shutil.which("firefox-esr") or "/usr/bin/firefox-esr")

# Fake audio, no prompts, autoplay allowed; nothing that phones home or slows a fresh profile.
BASE_PREFS: dict[str, Any] = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    "media.peerconnection.ice.obfuscate_host_addresses": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "browser.tabs.warnOnClose": False,
    # Test pages are plain http on a private address: no HTTPS-first probe of the same port.
    "dom.security.https_first": False,
    "dom.security.https_first_schemeless": False,
}


class FirefoxError(RuntimeError):
    """Firefox failed to start, or a BiDi command failed."""


class JavaScriptError(FirefoxError):
    """``script.evaluate`` reported an exception (or a rejected promise)."""


class FirefoxPage:
    """One browsing context of a BiDi session."""

    def __init__(self, browser: "Firefox", context: str) -> None:
        self.browser = browser
        self.context = context
        self.console = browser.console

    def navigate(self, url: str, timeout: float = 30.0) -> None:
        self.browser.send("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"},
                          timeout=timeout)

    def evaluate(self, expression: str, timeout: float = 30.0) -> Any:
        """The JSON value of ``expression`` (a promise is awaited); raises JavaScriptError."""
        # JSON.stringify in the page keeps the result simple (no BiDi remote-value decoding).
        wrapped = f"(async () => JSON.stringify(await ({expression})))()"
        r = self.browser.send("script.evaluate", {"expression": wrapped, "target": {"context": self.context},
                                                  "awaitPromise": True, "resultOwnership": "none"}, timeout=timeout)
        if r.get("type") == "exception":
            d = r.get("exceptionDetails", {})
            raise JavaScriptError(str(d.get("text") or d))
        value = r.get("result", {})
        if value.get("type") != "string":
            return None  # undefined (JSON.stringify of undefined or a function)
        return json.loads(value["value"])

    def set_viewport(self, width: int, height: int) -> None:
        self.browser.send("browsingContext.setViewport",
                          {"context": self.context, "viewport": {"width": width, "height": height}})

    def screenshot(self) -> bytes:
        r = self.browser.send("browsingContext.captureScreenshot", {"context": self.context})
        return base64.b64decode(r["data"])


class Firefox:
    """A headless Firefox ESR process and one WebDriver BiDi session to it."""

    def __init__(self, prefs: dict[str, Any] | None = None, netns: str | None = None,
                 binary: str = FIREFOX) -> None:
        self.binary = binary
        self.prefs = {**BASE_PREFS, **(prefs or {})}
        self.netns = netns
        self.profile_dir = ""
        self.log_path = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.ws: Any = None
        self._ids = itertools.count(1)
        self.console: list[dict[str, Any]] = []

    def start(self, timeout: float = 45.0) -> "Firefox":
        self.profile_dir = tempfile.mkdtemp(prefix="msab-firefox-")
        profile = os.path.join(self.profile_dir, "profile")
        os.mkdir(profile)
        with open(os.path.join(profile, "user.js"), "w") as f:
            for key, value in self.prefs.items():
                f.write(f"user_pref({json.dumps(key)}, {json.dumps(value)});\n")
        self.log_path = os.path.join(self.profile_dir, "firefox.log")
        tmp = os.path.join(self.profile_dir, "tmp")
        os.mkdir(tmp)
        env = {**os.environ, "MOZ_HEADLESS": "1", "TMPDIR": tmp, "HOME": self.profile_dir,
               "MOZ_CRASHREPORTER_DISABLE": "1"}
        env.pop("DISPLAY", None)
        args = [self.binary, "--headless", "--no-remote", "--profile", profile,
                "--remote-debugging-port=0", "about:blank"]
        if self.netns:
            args = ["ip", "netns", "exec", self.netns, *args]
        _become_subreaper()
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=env)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            m = re.search(r"WebDriver BiDi listening on ws://[^:]+:(\d+)", self._log())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.1)
        if not self.port:
            text = self._log()
            self.stop()
            raise FirefoxError(f"Firefox did not start its remote agent within {timeout}s.\n{text}")
        try:
            self._connect(timeout)
            self.send("session.new", {"capabilities": {}})
            self.send("session.subscribe", {"events": ["log.entryAdded"]})
        except Exception:
            self.stop()
            raise
        return self

    def _connect(self, timeout: float) -> None:
        url = f"ws://127.0.0.1:{self.port}/session"
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.netns:
                    # The agent listens on the namespace's own loopback: connect from inside it.
                    with netns_mod.inside(self.netns):
                        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
                else:
                    self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
                return
            except (OSError, websocket.WebSocketException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-20000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """A BiDi command; returns its ``result`` (events seen meanwhile: console kept)."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FirefoxError(f"BiDi {method} got no answer within {timeout}s")
            self.ws.settimeout(left)
            try:
                raw = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                raise FirefoxError(f"BiDi {method} got no answer within {timeout}s") from None
            msg = json.loads(raw)
            if msg.get("id") == msg_id:
                if msg.get("type") == "error":
                    raise FirefoxError(f"BiDi {method} failed: {msg.get('error')}: {msg.get('message')}")
                return msg.get("result", {})
            if msg.get("method") == "log.entryAdded":
                p = msg.get("params", {})
                self.console.append({"type": p.get("level"), "text": p.get("text")})

    def page(self) -> FirefoxPage:
        tree = self.send("browsingContext.getTree", {"maxDepth": 0})
        contexts = tree.get("contexts", [])
        if not contexts:
            raise FirefoxError("no browsing context")
        return FirefoxPage(self, contexts[0]["context"])

    def stop(self) -> None:
        if self.ws is not None:
            try:
                self.ws.settimeout(5)
                self.ws.send(json.dumps({"id": next(self._ids), "method": "browser.close", "params": {}}))
            except Exception:
                pass
            try:
                self.ws.close()
            except Exception:
                pass
            self.ws = None
        if self.proc is not None:
            # browser.close was sent: give Firefox its chance to exit on its own first.
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            _end_session(self.proc)
            self.proc = None
        if self.profile_dir:
            shutil.rmtree(self.profile_dir, ignore_errors=True)
            self.profile_dir = ""

    def __enter__(self) -> "Firefox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
