"""Self-tests of the Python test harness; they run without msab.

They show that each tool a real-peer msab test relies on actually works and can fail:
the tone pipeline over real aiortc WebRTC on 127.0.0.1 (frequency and level are measured, and a
wrong tone or level is rejected), the Laravel stand-in (every route of contract §7.1, header
checks, failure injection, recording, subprocess control API), the process helpers (with a
stand-in msab script, since the real binary does not exist yet, and a real redis-server), and
headless Chromium (CDP evaluate, getUserMedia with the fake device).
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import socket
import stat
import sys
import textwrap
import time

import numpy as np
import pytest
import requests

from msabtest import audio, loopback, run
from msabtest.chromium import Chromium, JavaScriptError
from msabtest.laravel import LaravelProcess, LaravelStandIn, make_user, sanctum_token
from msabtest.server import MsabServer, RedisReplyError, RedisServer, ServerError

# ---------------------------------------------------------------------------------------------
# Audio: analysis functions on synthetic signals
# ---------------------------------------------------------------------------------------------


def sine(freq: float, seconds: float, amplitude: float = 0.5, rate: int = 48000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.round(np.sin(2 * math.pi * freq * t) * amplitude * 32767).astype(np.int16)


@pytest.mark.parametrize("freq", [100.0, 437.3, 440.0, 1000.7, 3000.0])
def test_dominant_frequency_is_sub_hz_accurate(freq: float) -> None:
    rng = np.random.default_rng(1)
    noisy = sine(freq, 1.0).astype(np.float64) + rng.normal(0, 300, 48000)
    assert abs(audio.dominant_frequency(noisy) - freq) < 0.5


def test_analysis_of_silence_and_levels() -> None:
    silence = np.zeros(48000, np.int16)
    assert audio.dominant_frequency(silence) == 0.0
    assert audio.rms_dbfs(silence) == float("-inf")
    assert audio.band_energy_ratio(silence, 440) == 0.0
    for amp in (1.0, 0.5, 0.1):
        assert abs(audio.rms_dbfs(sine(440, 1.0, amp)) - audio.tone_rms_dbfs(amp)) < 0.05
    assert abs(audio.tone_rms_dbfs(1.0) - (-3.01)) < 0.01
    assert audio.is_tone(sine(440, 1.0), 440)
    assert not audio.is_tone(sine(880, 1.0), 440)
    assert not audio.is_tone(sine(446, 1.0), 440)  # outside ±5 Hz
    mix = sine(440, 1.0, 0.3) + sine(1200, 1.0, 0.3)
    assert not audio.is_tone(mix, 440)  # dominant maybe, but not a clean tone


def test_tone_track_frames_are_s16_mono_960_and_paced() -> None:
    async def body() -> None:
        track = audio.ToneTrack(440, 0.5)
        start = time.monotonic()
        frames = [await track.recv() for _ in range(26)]
        elapsed = time.monotonic() - start
        # 25 frame intervals of 20 ms after the first frame.
        assert 0.45 <= elapsed < 1.5, elapsed
        for i, f in enumerate(frames):
            assert (f.format.name, f.layout.name, f.samples, f.sample_rate) == ("s16", "mono", 960, 48000)
            assert f.pts == i * 960
        samples = np.concatenate([audio.frame_to_array(f)[:, 0] for f in frames])
        assert abs(audio.dominant_frequency(samples) - 440) < 0.5
        assert abs(audio.rms_dbfs(samples) - audio.tone_rms_dbfs(0.5)) < 0.05
        # Phase is continuous across frame boundaries: no click, so the tone stays pure.
        assert audio.band_energy_ratio(samples, 440) > 0.999
        track.stop()
    run(body(), 20)


# ---------------------------------------------------------------------------------------------
# Audio: the real pipeline, two aiortc peers over 127.0.0.1
# ---------------------------------------------------------------------------------------------


async def send_tone_over_webrtc(freq: float, amplitude: float, seconds: float = 3.0) -> audio.Capture:
    """ToneTrack → RTCPeerConnection → (ICE/DTLS/SRTP/Opus on 127.0.0.1) → RTCPeerConnection."""
    from aiortc import RTCPeerConnection

    loopback.apply()
    sender, receiver = RTCPeerConnection(), RTCPeerConnection()
    try:
        tone = audio.ToneTrack(freq, amplitude)
        sender.addTrack(tone)
        got_track: asyncio.Future = asyncio.get_running_loop().create_future()

        @receiver.on("track")
        def on_track(track) -> None:  # type: ignore[no-untyped-def]
            if not got_track.done():
                got_track.set_result(track)

        await sender.setLocalDescription(await sender.createOffer())
        offer = sender.localDescription.sdp
        assert "127.0.0.1" in offer and "typ host" in offer
        await receiver.setRemoteDescription(sender.localDescription)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(receiver.localDescription)
        track = await asyncio.wait_for(got_track, 10)
        cap = await audio.collect_audio(track, seconds, timeout=15)
        assert sender.iceConnectionState == "completed" or sender.connectionState == "connected"
        return cap
    finally:
        await sender.close()
        await receiver.close()


def check_received_tone(cap: audio.Capture) -> None:
    assert not cap.timed_out and not cap.ended
    assert cap.duration >= 3.0
    assert cap.sample_rate == 48000
    assert cap.formats == {"s16/stereo/48000"}
    assert set(cap.frame_samples) == {960}
    assert cap.channels.shape[1] == 2


@pytest.mark.media
def test_webrtc_tone_440_arrives_as_440_at_the_sent_level() -> None:
    cap = run(send_tone_over_webrtc(440.0, 0.5), 40)
    check_received_tone(cap)
    tail = cap.tail(2.0)  # ≥ 2 s, after decoder start-up
    assert abs(audio.dominant_frequency(tail) - 440.0) <= 5.0
    assert audio.band_energy_ratio(tail, 440.0) > 0.9
    level = audio.rms_dbfs(tail)
    assert abs(level - audio.expected_received_dbfs(0.5)) <= 3.0, level
    # Both channels carry the (upmixed) mono tone.
    right = cap.channels[-96000:, 1]
    assert abs(audio.dominant_frequency(right) - 440.0) <= 5.0


@pytest.mark.media
def test_webrtc_negative_controls_wrong_tone_and_wrong_level_are_rejected() -> None:
    cap = run(send_tone_over_webrtc(880.0, 0.05), 40)
    check_received_tone(cap)
    tail = cap.tail(2.0)
    f = audio.dominant_frequency(tail)
    # The 880 Hz tone is measured as 880 and is NOT accepted as 440.
    assert abs(f - 880.0) <= 5.0
    assert not abs(f - 440.0) <= 5.0
    assert not audio.is_tone(tail, 440.0)
    # A tone sent at amplitude 0.05 is not within 3 dB of what amplitude 0.5 would give.
    level = audio.rms_dbfs(tail)
    assert abs(level - audio.expected_received_dbfs(0.05)) <= 3.0, level
    assert not abs(level - audio.expected_received_dbfs(0.5)) <= 3.0


def test_loopback_patch_applies_and_restores() -> None:
    import aioice.ice
    loopback.restore()
    assert not loopback.is_applied()
    loopback.apply()
    assert loopback.is_applied()
    assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1"]
    assert aioice.ice.get_host_addresses(False, True) == []
    import msabtest.client  # noqa: F401 - importing the client applies it too
    assert loopback.is_applied()


# ---------------------------------------------------------------------------------------------
# Laravel stand-in (contract §7.1)
# ---------------------------------------------------------------------------------------------

API = "/api/v1/internal"


def internal_headers(stand_in, body: bool = False) -> dict[str, str]:  # type: ignore[no-untyped-def]
    h = {"Accept": "application/json", "Authorization": f"Bearer {stand_in.internal_key}",
         "X-Internal-Key": stand_in.internal_key}
    if body:
        h["Content-Type"] = "application/json"
    return h


def user_headers(stand_in, token: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Accept": "application/json", "Authorization": f"Bearer {token}", "X-Internal-Key": stand_in.internal_key}


def test_laravel_auth_validate(laravel: LaravelStandIn) -> None:
    token = sanctum_token(7)
    alice = make_user(7, "Alice")
    laravel.add_user(token, alice)
    url = laravel.url + API + "/auth/validate"

    r = requests.post(url, headers=user_headers(laravel, token), timeout=5)
    assert r.status_code == 200 and r.json() == alice
    assert set(r.json()) >= {"id", "name", "signature", "email", "avatar", "frame", "gender", "date_of_birth",
                             "phone", "country", "coins", "diamonds", "wealth_xp", "charm_xp", "is_blocked"}

    assert requests.post(url, headers=user_headers(laravel, "7|wrong"), timeout=5).status_code == 401
    laravel.remove_user(token)
    assert requests.post(url, headers=user_headers(laravel, token), timeout=5).status_code == 401

    # Missing / wrong headers: recorded as such, answered 401.
    laravel.add_user(token, alice)
    for drop in ("X-Internal-Key", "Accept", "Authorization"):
        h = user_headers(laravel, token)
        del h[drop]
        assert requests.post(url, headers=h, timeout=5).status_code == 401
    h = user_headers(laravel, token)
    h["X-Internal-Key"] = "not-the-key"
    assert requests.post(url, headers=h, timeout=5).status_code == 401

    recs = laravel.requests("auth")
    assert [r.status for r in recs] == [200, 401, 401, 401, 401, 401, 401]
    assert recs[0].header_problems == [] and recs[0].header("authorization") == f"Bearer {token}"
    assert recs[3].header_problems == ["X-Internal-Key missing"]
    assert recs[4].header_problems == ["Accept: application/json missing"]
    assert recs[5].header_problems == ["Authorization: Bearer <user token> missing"]
    assert recs[6].header_problems == ["X-Internal-Key missing or wrong"]
    assert all(r.method == "POST" and r.path == API + "/auth/validate" and r.body == b"" for r in recs)


def test_laravel_room_status(laravel: LaravelStandIn) -> None:
    url = laravel.url + API + "/rooms/42/status"
    ok = requests.post(url, json={"is_live": True, "participant_count": 3}, headers=internal_headers(laravel), timeout=5)
    assert ok.status_code == 200 and ok.json() == {"success": True}
    ended = {"is_live": False, "participant_count": 0, "ended_at": "2026-01-01T00:00:00.000Z"}
    assert requests.post(url, json=ended, headers=internal_headers(laravel), timeout=5).status_code == 200
    bad = requests.post(url, json={"is_live": "yes", "participant_count": -1}, headers=internal_headers(laravel), timeout=5)
    assert bad.status_code == 422
    # The user token is not the internal key: internal calls need Bearer <internal key>.
    h = internal_headers(laravel)
    h["Authorization"] = "Bearer 7|abc"
    assert requests.post(url, json={"is_live": True, "participant_count": 1}, headers=h, timeout=5).status_code == 401
    # A body without Content-Type: application/json.
    raw = requests.post(url, data=b'{"is_live": true, "participant_count": 1}',
                        headers={**internal_headers(laravel), "Content-Type": "text/plain"}, timeout=5)
    assert raw.status_code == 401

    recs = laravel.requests("status")
    assert [r.status for r in recs] == [200, 200, 422, 401, 401]
    assert recs[0].json == {"is_live": True, "participant_count": 3}
    assert recs[0].match == {"room_id": "42"}
    assert recs[1].json == ended
    assert recs[3].header_problems == ["Authorization: Bearer <internal key> missing or wrong"]
    assert recs[4].header_problems == ["Content-Type: application/json missing"]


def test_laravel_room_and_role(laravel: LaravelStandIn) -> None:
    laravel.set_room(42, owner_id=7, name="Alice's room")
    laravel.set_role(42, 8, "admin")
    laravel.set_role(42, 9, "member")
    base = laravel.url + API + "/rooms/"
    r = requests.get(base + "42", headers=internal_headers(laravel), timeout=5)
    assert r.status_code == 200 and r.json()["owner_id"] == 7 and r.json()["id"] == 42
    assert requests.get(base + "43", headers=internal_headers(laravel), timeout=5).status_code == 404
    assert requests.get(base + "42/members/8/role", headers=internal_headers(laravel), timeout=5).json() == {"role": "admin"}
    assert requests.get(base + "42/members/9/role", headers=internal_headers(laravel), timeout=5).json() == {"role": "member"}
    assert requests.get(base + "42/members/10/role", headers=internal_headers(laravel), timeout=5).status_code == 404
    laravel.set_role(42, 8, None)
    assert requests.get(base + "42/members/8/role", headers=internal_headers(laravel), timeout=5).status_code == 404
    assert requests.get(base + "42", headers={"Accept": "application/json"}, timeout=5).status_code == 401
    routes = [(r.route, r.method, r.status) for r in laravel.requests()]
    assert routes == [("room", "GET", 200), ("room", "GET", 404), ("role", "GET", 200), ("role", "GET", 200),
                      ("role", "GET", 404), ("role", "GET", 404), ("room", "GET", 401)]
    assert laravel.requests("role")[0].match == {"room_id": "42", "user_id": "8"}


def gift(tid: str, **over):  # type: ignore[no-untyped-def]
    g = {"transaction_id": tid, "room_id": "42", "sender_id": 7, "recipient_id": 8, "gift_id": 3,
         "quantity": 1, "timestamp": 1767225600000}
    g.update(over)
    return g


def test_laravel_gift_batch(laravel: LaravelStandIn) -> None:
    url = laravel.url + API + "/gifts/batch"
    laravel.fail_gift("g_2", 422, "Insufficient balance")
    batch = {"transactions": [gift("g_1"), gift("g_2"), gift("g_3", retryCount=1), {"transaction_id": "g_4"}]}
    r = requests.post(url, json=batch, headers=internal_headers(laravel), timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert body["processed_count"] == 2
    assert body["failed"] == [{"transaction_id": "g_2", "code": 422, "reason": "Insufficient balance"},
                              {"transaction_id": "g_4", "code": 422, "reason": "Malformed transaction"}]
    # Re-sending a settled transaction is accepted and not settled twice (de-dup on transaction_id).
    again = requests.post(url, json={"transactions": [gift("g_1", retryCount=1)]}, headers=internal_headers(laravel), timeout=5)
    assert again.json() == {"processed_count": 1, "failed": []}
    assert sorted(laravel.settled) == ["g_1", "g_3"]
    assert laravel.settled["g_1"].get("retryCount") is None  # the first settlement is kept
    assert requests.post(url, json={"nope": []}, headers=internal_headers(laravel), timeout=5).status_code == 422
    assert laravel.requests("gifts")[0].json == batch


def test_laravel_failure_injection(laravel: LaravelStandIn) -> None:
    laravel.set_room(42, owner_id=7)
    url = laravel.url + API + "/rooms/42"
    h = internal_headers(laravel)

    laravel.fail("room", "error", times=2, status=503)
    assert [requests.get(url, headers=h, timeout=5).status_code for _ in range(3)] == [503, 503, 200]

    laravel.fail("room", "malformed")  # until reset
    for _ in range(2):
        r = requests.get(url, headers=h, timeout=5)
        assert r.status_code == 200
        with pytest.raises(ValueError):
            r.json()
    laravel.fail("room", "shape", times=1)
    r = requests.get(url, headers=h, timeout=5)
    assert r.status_code == 200 and "owner_id" not in r.json()
    assert requests.get(url, headers=h, timeout=5).json()["owner_id"] == 7  # "shape" replaced "malformed"

    # Bad headers are answered 401 before any injected failure (and do not use one up).
    laravel.fail("room", "error", times=1)
    assert requests.get(url, headers={"Accept": "application/json"}, timeout=5).status_code == 401
    assert requests.get(url, headers=h, timeout=5).status_code == 500

    # A hang outlasts the caller's timeout; reset releases it; later calls are normal again.
    laravel.fail("room", "hang", hang_seconds=30)
    t0 = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url, headers=h, timeout=1)
    assert time.monotonic() - t0 < 5
    laravel.reset_failures()
    assert requests.get(url, headers=h, timeout=5).status_code == 200
    hung = laravel.wait_for(lambda r: r.injected == "hang", timeout=5)[0]
    assert hung.status == 504

    # Other routes were never affected.
    laravel.fail("gifts", "error")
    laravel.fail("auth", "error")
    laravel.reset_failures()
    assert requests.post(laravel.url + API + "/gifts/batch", json={"transactions": []}, headers=h, timeout=5).status_code == 200

    injected = [r.injected for r in laravel.requests("room")]
    assert injected == ["error", "error", None, "malformed", "malformed", "shape", None, None, "error", "hang", None]
    with pytest.raises(ValueError):
        laravel.fail("nope")
    with pytest.raises(ValueError):
        laravel.fail("room", "explode")


def test_laravel_wait_for_and_recording_from_another_thread(laravel: LaravelStandIn) -> None:
    import threading

    def later() -> None:
        time.sleep(0.3)
        requests.post(laravel.url + API + "/rooms/9/status", json={"is_live": True, "participant_count": 1},
                      headers=internal_headers(laravel, body=True), timeout=5)

    th = threading.Thread(target=later)
    th.start()
    rec = laravel.wait_route("status", timeout=5)[0]
    th.join()
    assert rec.json == {"is_live": True, "participant_count": 1} and rec.path == API + "/rooms/9/status"
    assert rec.header("Content-Type") == "application/json" and rec.header("x-internal-key") == laravel.internal_key
    with pytest.raises(TimeoutError):
        laravel.wait_route("gifts", timeout=0.3)
    laravel.clear()
    assert laravel.requests() == []


def test_laravel_subprocess_with_control_api() -> None:
    token = sanctum_token(5)
    fixtures = {"users": {token: make_user(5, "Eve")}, "rooms": {"1": {"id": 1, "owner_id": 5}},
                "roles": [["1", 6, "admin"]]}
    with LaravelProcess(fixtures=fixtures) as proc:
        assert proc.url.startswith("http://127.0.0.1:")
        r = requests.post(proc.url + API + "/auth/validate", headers=user_headers(proc, token), timeout=5)
        assert r.json()["name"] == "Eve"
        assert requests.get(proc.url + API + "/rooms/1/members/6/role", headers=internal_headers(proc), timeout=5).json() == {"role": "admin"}
        proc.fail("auth", "error", times=1, status=500)
        assert requests.post(proc.url + API + "/auth/validate", headers=user_headers(proc, token), timeout=5).status_code == 500
        proc.add_user("9|x", make_user(9, "Zed"))
        proc.set_room(2, owner_id=9)
        assert requests.get(proc.url + API + "/rooms/2", headers=internal_headers(proc), timeout=5).json()["owner_id"] == 9
        recs = proc.requests()
        assert [(r.route, r.status) for r in recs] == [("auth", 200), ("role", 200), ("auth", 500), ("room", 200)]
        assert recs[2].injected == "error"
        assert proc.wait_route("room")[0].match == {"room_id": "2"}
        pid = proc.proc.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# ---------------------------------------------------------------------------------------------
# Process helpers: MsabServer (with a stand-in script for the binary) and a real redis-server
# ---------------------------------------------------------------------------------------------

FAKE_MSAB = """\
#!{python}
# Stand-in for the msab binary, only to test MsabServer's process handling.
import http.server, json, os, signal, sys, time
mode = os.environ.get("FAKE_MODE", "ok")
if sys.argv[1] == "token":
    args = sys.argv[2:]
    print("minting...")
    print("tok." + os.environ["MSAB_JWT_SECRET"][:6] + "." + ".".join(args))
    sys.exit(0)
assert sys.argv[1] == "serve"
print("fake msab starting", flush=True)
if mode == "crash":
    print("config error: LARAVEL_API_URL is required", flush=True)
    sys.exit(3)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, lambda *a: print("ignoring SIGTERM", flush=True))
data_dir = os.environ["MSAB_DATA_DIR"]
with open(os.path.join(data_dir, "starts"), "a") as f:
    f.write("x")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"status": "ok", "env": {{k: v for k, v in os.environ.items()
                         if k.startswith(("MSAB_", "PORT", "MEDIASOUP_", "EXTRA"))}},
                         "starts": open(os.path.join(data_dir, "starts")).read()}}).encode()
        self.send_response(200 if self.path == "/health" and mode != "unhealthy" else 503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
time.sleep(float(os.environ.get("FAKE_DELAY", "0")))
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


@pytest.fixture
def fake_msab(tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "msab"
    path.write_text(FAKE_MSAB.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_msab_server_lifecycle_env_token_restart(fake_msab: str) -> None:
    server = MsabServer(binary=fake_msab, env={"EXTRA_SETTING": "1", "FAKE_DELAY": "0.5"})
    try:
        server.start(timeout=15)
        status, body = server.http("/health")
        assert status == 200
        env = body["env"]
        assert env["PORT"] == str(server.port)
        assert env["MEDIASOUP_LISTEN_IP"] == env["MEDIASOUP_ANNOUNCED_IP"] == "127.0.0.1"
        lo, hi = int(env["MEDIASOUP_RTC_MIN_PORT"]), int(env["MEDIASOUP_RTC_MAX_PORT"])
        assert hi - lo + 1 == 20 and 20000 <= lo
        assert env["MSAB_DATA_DIR"] == server.data_dir and os.path.isdir(server.data_dir)
        assert len(env["MSAB_JWT_SECRET"]) >= 32 and env["EXTRA_SETTING"] == "1"
        assert body["starts"] == "x"

        tok = server.token(7, "Alice", roles={"42": "owner", "43": "admin"})
        assert tok == f"tok.{env['MSAB_JWT_SECRET'][:6]}.--user.7.--name.Alice.--role.42=owner.--role.43=admin"

        # SIGKILL and restart: same port, same data dir (the stand-in counts its starts there).
        port, pid = server.port, server.proc.pid
        assert server.kill() == -signal.SIGKILL
        assert not port_open(port)
        server.restart(timeout=15)
        assert server.proc.pid != pid and server.port == port
        assert server.http("/health")[1]["starts"] == "xx"
        assert "===== msab start #2 =====" in server.log() and "fake msab starting" in server.log()
        assert server.stop() == -signal.SIGTERM
        assert not server.running and not port_open(port)
    finally:
        server.close()
    assert not os.path.exists(server.data_dir)


def test_msab_server_sigkill_after_grace_when_sigterm_is_ignored(fake_msab: str) -> None:
    server = MsabServer(binary=fake_msab, env={"FAKE_MODE": "stubborn"})
    try:
        server.start(timeout=15)
        t0 = time.monotonic()
        assert server.stop(grace=1.0) == -signal.SIGKILL
        assert 0.9 <= time.monotonic() - t0 < 5
        assert "ignoring SIGTERM" in server.log()
    finally:
        server.close()


def test_msab_server_failures_carry_the_log(fake_msab: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    crash = MsabServer(binary=fake_msab, env={"FAKE_MODE": "crash"})
    with pytest.raises(ServerError, match="exited with status 3(.|\n)*LARAVEL_API_URL is required"):
        crash.start(timeout=10)
    crash.close()

    unhealthy = MsabServer(binary=fake_msab, env={"FAKE_MODE": "unhealthy"})
    with pytest.raises(ServerError, match="did not answer 200 within 2(.|\n)*HTTP 503(.|\n)*fake msab starting"):
        unhealthy.start(timeout=2)
    assert unhealthy.proc is None  # it was stopped
    unhealthy.close()

    missing = MsabServer(binary=str(tmp_path / "no-such-msab"))
    assert not missing.available()
    with pytest.raises(ServerError, match="not found"):
        missing.start()
    missing.close()


def test_redis_server_fixture(redis_server: RedisServer) -> None:
    assert redis_server.command("PING") == "PONG"
    assert redis_server.command("SET", "room:42:activity", "1") == "OK"
    assert redis_server.command("GET", "room:42:activity") == "1"
    assert redis_server.command("HSET", "room:42:seats", "0", '{"userId":"7","muted":false}', db=3) == 1
    assert redis_server.command("HGETALL", "room:42:seats", db=3) == ["0", '{"userId":"7","muted":false}']
    assert redis_server.command("HGETALL", "room:42:seats") == []  # other DB
    assert redis_server.command("CONFIG", "GET", "save") == ["save", ""]
    assert redis_server.command("CONFIG", "GET", "appendonly") == ["appendonly", "no"]
    assert redis_server.command("CONFIG", "GET", "bind")[1] == "127.0.0.1"
    with pytest.raises(RedisReplyError):
        redis_server.command("NOSUCHCOMMAND")
    assert redis_server.env(3) == {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port), "REDIS_DB": "3"}


def test_redis_server_stops() -> None:
    r = RedisServer().start()
    port = r.port
    assert port_open(port)
    r.close()
    assert not port_open(port) and not os.path.exists(r.dir)


# ---------------------------------------------------------------------------------------------
# Headless Chromium
# ---------------------------------------------------------------------------------------------

GUM_PAGE = textwrap.dedent("""\
    <!doctype html><meta charset="utf-8"><title>gum</title>
    <script>
    async function micInfo() {
      const stream = await navigator.mediaDevices.getUserMedia({audio: true});
      const t = stream.getAudioTracks()[0];
      const info = {kind: t.kind, readyState: t.readyState, label: t.label,
                    secure: window.isSecureContext, sampleRate: t.getSettings().sampleRate};
      // Measure that the fake device really produces sound (it plays a beep).
      const ctx = new AudioContext();
      const src = ctx.createMediaStreamSource(stream);
      const an = ctx.createAnalyser(); an.fftSize = 2048; src.connect(an);
      const buf = new Float32Array(an.fftSize); let peak = 0;
      const until = performance.now() + 2500;
      while (performance.now() < until) {
        await new Promise(r => setTimeout(r, 50));
        an.getFloatTimeDomainData(buf);
        for (const v of buf) peak = Math.max(peak, Math.abs(v));
      }
      info.peak = peak; t.stop(); await ctx.close();
      return info;
    }
    </script>
""")


@pytest.mark.browser
def test_chromium_evaluate_and_errors(chromium: Chromium) -> None:
    page = chromium.page()
    assert page.evaluate("1+1") == 2
    assert page.evaluate("Promise.resolve({a: [1, 'x']})") == {"a": [1, "x"]}
    with pytest.raises(JavaScriptError, match="boom"):
        page.evaluate("(async () => { throw new Error('boom') })()")
    with pytest.raises(JavaScriptError, match="ReferenceError"):
        page.evaluate("noSuchThing.x")
    page.evaluate("console.log('hello', 42)")
    page.evaluate("1")  # the console event arrives around the next command
    assert any(c["text"] == "hello 42" for c in page.console)
    assert any(t["type"] == "page" for t in chromium.targets())


@pytest.mark.browser
@pytest.mark.media
def test_chromium_getusermedia_fake_device_on_127_0_0_1(chromium: Chromium, static_site) -> None:  # type: ignore[no-untyped-def]
    site = static_site({"gum.html": GUM_PAGE})
    page = chromium.page()
    page.navigate(site.url + "/gum.html")
    info = page.evaluate("micInfo()", timeout=20)
    assert info["kind"] == "audio" and info["readyState"] == "live" and info["secure"] is True
    assert info["peak"] > 0.01, info  # the fake device's beep is audible


@pytest.mark.browser
def test_chromium_stop_kills_everything() -> None:
    browser = Chromium().start()
    sid = browser.proc.pid
    profile = browser.profile_dir
    assert browser.page().evaluate("2*21") == 42
    from msabtest.chromium import _session_pids
    assert len(_session_pids(sid)) >= 2  # browser + helpers
    port = browser.port
    browser.stop()
    assert _session_pids(sid) == []
    assert not os.path.exists(profile) and not port_open(port)
    browser.stop()  # idempotent
