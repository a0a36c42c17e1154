"""`msab loadtest` against a real msab: 1 speaker and 5 listeners for 3 s, results as JSON.

The load test is msab's own client (Swift: Socket.IO client, controlling ICE, DTLS client, SRTP);
this checks it end to end against the server it is meant to measure, under the server's
environment so the tokens it mints from the same secret are accepted.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from msabtest.server import MsabServer

pytestmark = [pytest.mark.msab, pytest.mark.media]


def run_loadtest(msab: MsabServer, *args: str, timeout: float = 90) -> tuple[subprocess.CompletedProcess[str], dict]:
    cmd = [msab.binary, "loadtest", "--url", msab.url, *args, "--json"]
    r = subprocess.run(cmd, env=msab._process_env(), cwd=msab._own_tmp, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert r.returncode == 0 and lines, f"loadtest failed ({r.returncode}):\n{r.stdout}\n{r.stderr}\n--- server log ---\n{msab.log()[-4000:]}"
    return r, json.loads(lines[-1])


def test_one_speaker_five_listeners(msab: MsabServer) -> None:
    r, report = run_loadtest(msab, "--room", "lt1", "--speakers", "1", "--listeners", "5", "--concurrency", "5", "--duration", "3")
    assert report["joined"] == 6, r.stderr
    assert report["failed"] == 0, r.stderr
    assert report["loss_pct"] < 1, r.stderr
    assert report["join_to_audio_ms"]["p95"] is not None and report["join_to_audio_ms"]["count"] == 5
    assert report["srtp_auth_failures"] == 0
    assert report["foreign_payloads"] == 0, r.stderr  # every payload is the speaker's Opus fixture
    # 5 listeners × ~3 s × 50 packets/s, with slack for a slow machine.
    assert report["packets_received"] >= 5 * 2 * 50, r.stderr
    assert report["jitter_ms"] >= 0
    # A progress line every second and a summary on stderr.
    assert "joined 6/6" in r.stderr and "loadtest summary" in r.stderr


def test_refused_tokens_count_as_failed(msab: MsabServer) -> None:
    # A different secret: every connection is refused, and the report says so instead of hanging.
    env = msab._process_env()
    env["MSAB_JWT_SECRET"] = "f" * 48
    cmd = [msab.binary, "loadtest", "--url", msab.url, "--room", "lt2", "--speakers", "1", "--listeners", "2",
           "--duration", "1", "--join-timeout", "10", "--json"]
    r = subprocess.run(cmd, env=env, cwd=msab._own_tmp, capture_output=True, text=True, timeout=90)
    report = json.loads([ln for ln in r.stdout.splitlines() if ln.strip()][-1])
    assert report["joined"] == 0 and report["failed"] == 3, r.stderr
    assert any("Invalid credentials" in reason for reason in report["failures"]), report["failures"]


def test_broadcast_reaches_every_socket_and_reports_server_cpu(msab_factory) -> None:
    # `--sockets N`: N signalling-only clients, backend events to everyone (POST /internal/events,
    # no user and no room), each event awaited on every client; the server's CPU from /proc.
    key = "k" * 32
    msab = msab_factory(env={"MSAB_INTERNAL_KEY": key})
    r, report = run_loadtest(msab, "--sockets", "60", "--events", "4", "--concurrency", "20",
                             "--internal-key", key, "--server-pid", str(msab.proc.pid))
    assert report["mode"] == "broadcast"
    assert report["connected"] == 60 and report["failed"] == 0, r.stderr
    assert report["expected"] == 240 and report["delivered"] == 240, r.stderr
    assert report["latency_ms"]["p50"] is not None and report["latency_ms"]["p50"] < 5000
    assert report["server_burst_user_s"] is not None and report["burst_s"] > 0
    assert "broadcast summary: 60/60 connected" in r.stderr


def test_broadcast_with_a_wrong_internal_key_fails_clearly(msab_factory) -> None:
    msab = msab_factory(env={"MSAB_INTERNAL_KEY": "k" * 32})
    cmd = [msab.binary, "loadtest", "--url", msab.url, "--sockets", "3", "--events", "1", "--internal-key", "x" * 32, "--json"]
    r = subprocess.run(cmd, env=msab._process_env(), cwd=msab._own_tmp, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "answered 401" in r.stderr, r.stderr


def test_room_fanout_over_two_nodes_times_every_delivery_once(cluster) -> None:
    # `--sockets N --room-messages M --also-url B` (issue 12's bench instrument): N clients in one
    # room alternating between two nodes of a cluster; the first (on node 1) sends M chat messages
    # and then a burst; every client must get every message exactly once (a duplicate — a node
    # hearing its own broadcast back — counts as a delivery too and breaks the equality).
    c = cluster(nodes=2, env={"RATE_LIMIT_MESSAGES_PER_MINUTE": "100000"})
    a, b = c.nodes
    cmd = [c.binary, "loadtest", "--url", a.url, "--also-url", b.url, "--room", "fanout", "--sockets", "30",
           "--concurrency", "10", "--room-messages", "8", "--room-rate", "20", "--room-burst", "12", "--json"]
    r = subprocess.run(cmd, env={"PATH": "/usr/bin:/bin", "MSAB_JWT_SECRET": c.secret}, capture_output=True,
                       text=True, timeout=120)
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert r.returncode == 0 and lines, f"loadtest failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    report = json.loads(lines[-1])
    assert report["mode"] == "room-fanout"
    assert report["connected"] == 30 and report["failed"] == 0, r.stderr
    home, other = report["nodes"]
    assert (home["url"], other["url"]) == (a.url, b.url)
    assert home["clients"] == 15 and other["clients"] == 15
    assert home["delivered"] == 8 * 15 and other["delivered"] == 8 * 15, r.stderr
    assert report["expected"] == 8 * 30
    assert report["burst_delivered"] == report["burst_expected"] == 12 * 30, r.stderr
    for node in (home, other):
        assert 0 < node["latency_ms"]["p50"] <= node["latency_ms"]["p99"] < 5000
    assert other["adds_p50_ms"] is not None
    assert "room fan-out summary: 30/30 clients in one room over 2 node(s)" in r.stderr
    assert "crossing nodes adds" in r.stderr


def test_room_fanout_options_are_checked(msab: MsabServer) -> None:
    for args, message in ((["--room-messages", "5"], "--room-messages needs --sockets"),
                          (["--sockets", "2", "--room-messages", "0"], "--room-messages must be"),
                          (["--sockets", "2", "--room-messages", "2", "--room-burst", "999"], "--room-burst must be"),
                          (["--sockets", "2", "--room-messages", "2", "--also-url", "http://127.0.0.1:99999"], "--also-url must look like"),
                          (["--sockets", "2", "--events", "1", "--also-url", msab.url], "--also-url is for the room")):
        r = subprocess.run([msab.binary, "loadtest", "--url", msab.url, *args], env=msab._process_env(),
                           cwd=msab._own_tmp, capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and message in r.stderr, (args, r.stderr)
