"""Issue 10 point 4: secrets in the data directory.

The development secret and the stand-alone internal key are created private (0600) with at least
32 random bytes; an existing file that is empty, too short or unreadable stops msab with one line
naming the file and exit status 78 (never a trap: 132 was the crash loop); `/internal/events`
never accepts an empty key."""
import json
import os
import stat
import subprocess
import tempfile

import pytest
import requests

from msabtest.server import MsabServer, clean_env, default_msab_bin, serve_once

MSAB = default_msab_bin()


def serve(data):
    """`msab serve` with no MSAB_JWT_SECRET / MSAB_INTERNAL_KEY, so the data directory's files are used;
    bounded: a configuration error exits at once."""
    return serve_once(data_dir=data)


@pytest.mark.parametrize("name", ["jwt-secret", "internal-key"])
@pytest.mark.parametrize("contents", ["", "\n", "x" * 31])
def test_an_unusable_secret_file_stops_msab_with_one_line(name, contents):
    with tempfile.TemporaryDirectory() as data:
        path = os.path.join(data, name)
        with open(path, "w") as f:
            f.write(contents)
        out = serve(data)
        assert out.returncode == 78, (out.returncode, out.stderr)
        lines = [l for l in out.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and path in lines[0], out.stderr
        # The file is left for the operator, not silently replaced.
        assert open(path).read() == contents


def test_an_unreadable_secret_file_stops_msab_and_msab_token_too():
    with tempfile.TemporaryDirectory() as data:
        os.mkdir(os.path.join(data, "jwt-secret"))  # tests run as root: a directory is unreadable as a file
        out = serve(data)
        assert out.returncode == 78 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert os.path.join(data, "jwt-secret") in out.stderr
        tok = subprocess.run([MSAB, "token", "--user", "1"], env=clean_env(MSAB_DATA_DIR=data),
                             capture_output=True, text=True, timeout=60)
        assert tok.returncode == 78 and os.path.join(data, "jwt-secret") in tok.stderr, tok.stderr


def test_secrets_are_created_private_and_long_and_kept():
    server = MsabServer.small(MSAB_JWT_SECRET="")  # empty counts as unset: the development secret is used
    try:
        server.start()
        for name in ("jwt-secret", "internal-key"):
            path = os.path.join(server.data_dir, name)
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert mode == 0o600, (name, oct(mode))
            value = open(path).read().strip()
            assert len(bytes.fromhex(value)) >= 32, (name, value)
        assert sorted(n for n in os.listdir(server.data_dir) if ".tmp-" in n) == []
        before = open(os.path.join(server.data_dir, "jwt-secret")).read()
        token = server.token(5, "Kept")
        server.stop()
        server.start()
        assert open(os.path.join(server.data_dir, "jwt-secret")).read() == before
        # A token minted before the restart still works: the secret was kept.
        import socketio
        sio = socketio.Client(reconnection=False)
        sio.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        sio.disconnect()
    finally:
        server.close()


def test_internal_events_never_accept_an_empty_key():
    server = MsabServer.small(MSAB_JWT_SECRET="").start()
    try:
        key = open(os.path.join(server.data_dir, "internal-key")).read().strip()
        body = json.dumps({"event": "ping", "user_id": None, "room_id": None, "payload": {}})
        url = server.url + "/internal/events"
        for headers in ({}, {"X-Internal-Key": ""}, {"X-Internal-Key": key[:-1]}):
            r = requests.post(url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=5)
            assert r.status_code == 401, (headers, r.status_code, r.text)
        r = requests.post(url, data=body, headers={"Content-Type": "application/json", "X-Internal-Key": key}, timeout=5)
        assert r.status_code == 202, r.text
    finally:
        server.close()
