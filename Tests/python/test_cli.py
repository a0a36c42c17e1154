"""The msab command line: `msab token`, configuration errors, and `msab serve` health."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import time

import requests

from msabtest.server import SECRET, clean_env as env, default_msab_bin, free_port

MSAB = default_msab_bin()


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_token_carries_user_profile_and_roles():
    out = subprocess.run([MSAB, "token", "--user", "7", "--name", "Alice", "--role", "42=owner", "--role", "43=admin",
                          "--field", "avatar=https://a/b.png"],
                         env=env(MSAB_JWT_SECRET=SECRET), capture_output=True, text=True, timeout=60, check=True)
    token = out.stdout.strip()
    assert token.count(".") == 2
    c = claims(token)
    assert c["sub"] == "7" and c["name"] == "Alice" and c["avatar"] == "https://a/b.png"
    assert c["rooms"] == {"42": "owner", "43": "admin"}
    assert c["exp"] > time.time() + 3600


def test_token_rejects_bad_role():
    out = subprocess.run([MSAB, "token", "--user", "7", "--role", "42=king"], env=env(MSAB_JWT_SECRET=SECRET),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--role" in out.stderr


def test_bad_configuration_names_the_variable():
    cases = {"PORT": "abc", "MSAB_JWT_SECRET": "short", "MEDIASOUP_LISTEN_IP": "not-an-ip",
             "LARAVEL_API_URL": "ftp://x", "MSAB_EVENTS_ENABLED": "maybe"}
    for name, value in cases.items():
        with tempfile.TemporaryDirectory() as data:
            out = subprocess.run([MSAB, "serve"], env=env(MSAB_DATA_DIR=data, **{name: value}),
                                 capture_output=True, text=True, timeout=60)
        assert out.returncode == 78, (name, out.stderr)
        lines = [l for l in out.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and name in lines[0], (name, out.stderr)


def test_serve_prints_a_working_token_and_health():
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen([MSAB, "serve"], env=env(MSAB_DATA_DIR=data, PORT=port, MSAB_HOST="127.0.0.1",
                                                         MEDIASOUP_LISTEN_IP="127.0.0.1"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 30
            lines = []
            while time.time() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line)
                if "msab token" in line:
                    break
            text = "".join(lines)
            assert f"http://127.0.0.1:{port}" in text, text
            token = [l.strip() for l in lines if l.strip().startswith("eyJ")][0]
            assert claims(token)["sub"] == "1"
            # The demo link (issue 15): msab's own page for room "demo", user 1's token in it, and a guest's.
            demo = [l.strip() for l in lines if l.strip().startswith(f"http://127.0.0.1:{port}/?room=demo&token=")]
            assert len(demo) == 2, text
            assert demo[0].split("token=", 1)[1] == token
            assert claims(demo[1].split("token=", 1)[1])["sub"] == "2"
            page = requests.get(demo[0], timeout=5)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            # The dev secret persisted in the data directory signs the same way for `msab token`.
            assert os.path.exists(os.path.join(data, "jwt-secret"))
            minted = subprocess.run([MSAB, "token", "--user", "1"], env=env(MSAB_DATA_DIR=data),
                                    capture_output=True, text=True, timeout=60, check=True).stdout.strip()
            secret = open(os.path.join(data, "jwt-secret")).read().strip().encode()
            for jwt in (token, minted):
                head, body, sig = jwt.split(".")
                expected = base64.urlsafe_b64encode(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
                assert expected.rstrip(b"=").decode() == sig
            health = requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
            assert health.status_code == 200
            body = health.json()
            assert body["status"] == "ok" and body["redis"] == "disabled"
            assert set(body) >= {"uptime", "workers", "rooms", "timestamp", "build"}
            metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
            assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode is not None
