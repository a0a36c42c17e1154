"""The Janus side of `make bench-janus` at tiny scale: `msab loadtest --target janus` against a real
Janus 1.1.2 (VideoRoom), 1 speaker and 3 listeners for 3 s.

Janus runs alone in a network namespace joined to this one by a veth pair (it skips loopback
interfaces when gathering candidates), configured as the bench configures it (ICE-lite, the
namespace's address, WebSockets on that address only). The load test's listeners verify every
packet's SRTP tag and count sequence gaps, so this checks the whole Janus path: Janus API state
machine, SDP offer/answer, ICE against Janus's ICE-lite, DTLS client against Janus's DTLS server,
SRTP both ways, and that every payload is the speaker's Opus byte for byte. Janus missing and not installable is a failure, not a skip.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from msabtest.netns import VethHost

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Benchmarks"))
import janus_bench  # noqa: E402

pytestmark = [pytest.mark.msab, pytest.mark.media]


@pytest.mark.timeout(90)
def test_janus_videoroom_one_speaker_three_listeners(msab_bin: str) -> None:
    janus = janus_bench.install_janus()
    work = tempfile.mkdtemp(prefix="janus-test-")
    with VethHost() as host:
        janus_bench.write_janus_config(work, host.far, host.far_if, event_loops=None)
        log = os.path.join(work, "janus.log")
        with open(log, "ab") as out:
            proc = subprocess.Popen(host.exec_prefix() + [janus, "-F", work], stdout=out, stderr=subprocess.STDOUT)
        try:
            janus_bench.wait_tcp(host.far, janus_bench.WS_PORT, proc, 30)
            cmd = [msab_bin, "loadtest", "--target", "janus", "--janus-url", f"ws://{host.far}:{janus_bench.WS_PORT}",
                   "--janus-room", "4321", "--speakers", "1", "--listeners", "3", "--duration", "3",
                   "--join-timeout", "20", "--server-pid", str(proc.pid), "--json"]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        finally:
            janus_bench.stop(proc)
        with open(log, errors="replace") as f:
            janus_log = f.read()[-4000:]
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert r.returncode == 0 and lines, f"loadtest failed ({r.returncode}):\n{r.stderr}\n--- janus ---\n{janus_log}"
    report = json.loads(lines[-1])
    context = f"{r.stderr}\n--- janus ---\n{janus_log}"
    assert report["joined"] == 4 and report["failed"] == 0, context
    assert report["srtp_auth_failures"] == 0, context
    # Every packet's payload is one of the speaker's Opus frames (the 440 Hz fixture) byte for byte.
    assert report["foreign_payloads"] == 0, context
    # 3 listeners × ~3 s × 50 packets/s, with slack for a busy machine; every one SRTP-verified.
    assert report["packets_received"] >= 3 * 2 * 50, context
    assert report["loss_pct"] < 2, context
    # The server's CPU was read from /proc for the measured window (what the bench divides).
    assert report["server_cpu"] is not None and report["server_cpu"]["packets_measured"] > 0, context
