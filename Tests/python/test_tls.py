"""Issue 10 point 5: TLS built in. With `SSL_KEY_PATH` and `SSL_CERT_PATH` (PEM) msab serves HTTPS
and WSS on `PORT`; python-socketio connects over polling and over WebSocket, verifying the
certificate against the test's own CA (made with the `openssl` CLI). Unreadable or mismatched files
stop msab with one line (exit 78). A plain-http `LARAVEL_API_URL` to a remote host is a warning."""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile

import pytest
import requests
import socketio

from msabtest.server import MsabServer, free_port, serve_once

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki():
    """A CA, a server certificate it signed for 127.0.0.1, and an unrelated key."""
    d = tempfile.mkdtemp(prefix="msab-tls-")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=msab test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "other.key", cwd=d)
    yield {name: os.path.join(d, name) for name in ("ca.pem", "server.key", "server.pem", "other.key")} | {"dir": d}
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def tls_server(pki, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["ca.pem"])  # python-engineio's polling requests verify with it
    # tls_ca: the url is https:// (CORS_ORIGINS too) and start() checks /health against the test CA.
    with MsabServer.small(tls_ca=pki["ca.pem"], SSL_KEY_PATH=pki["server.key"], SSL_CERT_PATH=pki["server.pem"]) as s:
        yield s


def client(pki, server, transport, uid):
    session = requests.Session()
    session.verify = pki["ca.pem"]  # python-engineio passes it to websocket-client as ca_certs too
    sio = socketio.Client(reconnection=False, http_session=session)
    events = []
    sio.on("*", lambda event, *args: events.append((event, args[0] if args else None)))
    sio.connect(server.url, auth={"token": server.token(uid, f"U{uid}")}, transports=[transport], wait_timeout=10)
    return sio, events


def test_https_and_wss_with_the_tests_own_ca(pki, tls_server):
    r = requests.get(tls_server.url + "/health", verify=pki["ca.pem"], timeout=5)
    assert r.status_code == 200 and r.json()["status"] == "ok"
    polling, _ = client(pki, tls_server, "polling", 1)
    ws, ws_events = client(pki, tls_server, "websocket", 2)
    try:
        assert polling.transport() == "polling" and ws.transport() == "websocket"
        assert "seats" in ws.call("room:join", {"roomId": "tls"}, timeout=10)
        assert "seats" in polling.call("room:join", {"roomId": "tls"}, timeout=10)
        assert polling.call("msab:echo", {"over": "https"}, timeout=10) == {"over": "https"}
        assert ws.call("msab:echo", {"over": "wss"}, timeout=10) == {"over": "wss"}
        assert ("room:userJoined", {"userId": 1, "user": {"id": 1, "name": "U1"}}) in ws_events
    finally:
        polling.disconnect()
        ws.disconnect()
    # It is the server's certificate, and only the test CA vouches for it.
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")
    # Nothing is served in clear on the port.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{tls_server.port}/health", timeout=5)


def test_bad_tls_files_stop_msab_with_one_line(pki):
    garbage = os.path.join(pki["dir"], "garbage.pem")
    with open(garbage, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    cases = [
        ({"SSL_KEY_PATH": pki["server.key"], "SSL_CERT_PATH": "/nonexistent/cert.pem"}, "SSL_CERT_PATH", "/nonexistent/cert.pem"),
        ({"SSL_KEY_PATH": "/nonexistent/key.pem", "SSL_CERT_PATH": pki["server.pem"]}, "SSL_KEY_PATH", "/nonexistent/key.pem"),
        ({"SSL_KEY_PATH": pki["server.key"], "SSL_CERT_PATH": garbage}, "SSL_CERT_PATH", garbage),
        ({"SSL_KEY_PATH": pki["other.key"], "SSL_CERT_PATH": pki["server.pem"]}, "SSL_KEY_PATH", pki["other.key"]),
        ({"SSL_KEY_PATH": pki["server.key"]}, "SSL_CERT_PATH", "required"),
    ]
    for env, variable, mention in cases:
        out = serve_once(**env)
        lines = [l for l in out.stderr.splitlines() if l.strip()]
        assert out.returncode == 78, (env, out.returncode, out.stderr)
        assert len(lines) == 1 and variable in lines[0] and mention in lines[0], (env, out.stderr)


def test_plain_http_laravel_to_a_remote_host_is_a_warning():
    key = "laravel-internal-key-0123456789abcdef"
    remote = MsabServer.small(LARAVEL_API_URL="http://192.0.2.10:8000", LARAVEL_INTERNAL_KEY=key).start()
    local = MsabServer.small(LARAVEL_API_URL=f"http://127.0.0.1:{free_port()}", LARAVEL_INTERNAL_KEY=key).start()
    try:
        assert "LARAVEL_API_URL is plain http to 192.0.2.10" in remote.log()
        assert "LARAVEL_API_URL" not in local.log()
    finally:
        remote.close()
        local.close()
