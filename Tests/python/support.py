"""Small helpers for the signalling tests: start msab, mint tokens, record Socket.IO events.

The heavier real-peer tools (tone tracks, pymediasoup client, stand-in Laravel, Chromium) live in
the msabtest package; this module only needs python-socketio and the msab binary.
"""
import os
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import requests
import socketio

MSAB = os.environ.get("MSAB_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/msab"))
SECRET = "test-secret-0123456789abcdef0123456789"


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_media_port():
    """A port number free on UDP and on TCP: a media worker listens on both (ICE-TCP)."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    return free_port(socket.SOCK_DGRAM)


def clean_env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MSAB_", "LARAVEL_", "REDIS_", "MEDIASOUP_"))}
    e.update({k: str(v) for k, v in extra.items()})
    return e


class Server:
    """An `msab serve` process on 127.0.0.1 with its own data dir and ports."""

    def __init__(self, **env):
        self.dir = tempfile.TemporaryDirectory(prefix="msab-test-")
        self.port = free_port()
        self.rtc_port = free_media_port()
        settings = dict(MSAB_DATA_DIR=self.dir.name, PORT=self.port, MSAB_HOST="127.0.0.1",
                        MSAB_JWT_SECRET=SECRET, MEDIASOUP_LISTEN_IP="127.0.0.1",
                        MEDIASOUP_ANNOUNCED_IP="127.0.0.1", MEDIASOUP_NUM_WORKERS=1,
                        MEDIASOUP_RTC_MIN_PORT=self.rtc_port, MEDIASOUP_RTC_MAX_PORT=self.rtc_port,
                        CORS_ORIGINS=f"http://127.0.0.1:{self.port}", LOG_LEVEL="warning")
        settings.update(env)
        self.env = clean_env(**settings)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.preexec_fn = None  # run in the child before exec (e.g. a resource limit)
        self.log = open(os.path.join(self.dir.name, "server.log"), "w+")

    def start(self, timeout=30):
        self.proc = subprocess.Popen([MSAB, "serve"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=self.preexec_fn)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"msab exited {self.proc.returncode}:\n{self.output()}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"msab did not become healthy:\n{self.output()}")

    def output(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def token(self, user, name=None, roles=(), ttl=None):
        args = [MSAB, "token", "--user", str(user)]
        if name:
            args += ["--name", name]
        for room, role in roles:
            args += ["--role", f"{room}={role}"]
        if ttl:
            args += ["--ttl", str(ttl)]
        return subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60, check=True).stdout.strip()

    def metrics(self):
        return requests.get(self.url + "/metrics", timeout=5).text

    def metric(self, name, **labels):
        """Sum of a Prometheus metric's samples whose labels include `labels`."""
        total = 0.0
        for line in self.metrics().splitlines():
            if not line.startswith(name):
                continue
            head, _, value = line.rpartition(" ")
            if head.split("{")[0] != name:
                continue
            if all(f'{k}="{v}"' in head for k, v in labels.items()):
                total += float(value)
        return total

    def stop(self, kill=False):
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def close(self):
        self.stop()
        self.log.close()
        self.dir.cleanup()


class Client:
    """A python-socketio client that records every event it receives."""

    def __init__(self, server, token, transports=("websocket",), headers=None):
        self.sio = socketio.Client(reconnection=False)
        self.events = []
        self.cond = threading.Condition()

        @self.sio.on("*")
        def _any(event, *args):
            with self.cond:
                self.events.append((event, args[0] if args else None))
                self.cond.notify_all()

        self.sio.connect(server.url, auth={"token": token} if token is not None else None,
                         transports=list(transports) if transports else None, headers=headers or {}, wait_timeout=10)

    def call(self, event, data, timeout=10):
        return self.sio.call(event, data, timeout=timeout)

    def emit(self, event, data):
        self.sio.emit(event, data)

    def received(self, event):
        with self.cond:
            return [p for e, p in self.events if e == event]

    def wait_for(self, event, predicate=lambda p: True, timeout=5):
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

    def clear(self):
        with self.cond:
            self.events.clear()

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:
            pass


def refusal(server, auth=None, headers=None, transports=("websocket",)):
    """The connect_error message of a refused connection (python-socketio raises a generic
    ConnectionError and reports the server's message through the connect_error event)."""
    sio = socketio.Client(reconnection=False)
    messages = []
    sio.on("connect_error", lambda data: messages.append(data.get("message") if isinstance(data, dict) else data))
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(server.url, auth=auth, headers=headers or {}, transports=list(transports), wait_timeout=10)
        assert len(messages) == 1, messages
        return messages[0]
    finally:
        sio.disconnect()
