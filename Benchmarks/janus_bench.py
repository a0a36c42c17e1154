#!/usr/bin/env python3
"""Janus side by side: the same audio fan-out load against Janus's VideoRoom and against msab.

`make bench-janus` runs this. For each N (default 100 and 1,000 listeners, one speaker, 20 s
measured) it runs, one after the other and on the same topology:

  1. Janus 1.1.2 (Debian package), default configuration + ICE-lite + the namespace's address;
  2. the same Janus with `event_loops = 2` (handles share two loop threads instead of one each);
  3. msab (release build), one media worker;

each server alone in a network namespace joined to this one by a veth pair (Janus skips loopback
interfaces when it gathers candidates, and dummy interfaces are not available here; the pair is
created at start and removed at exit, Ctrl-C or failure included; all traffic stays on this
machine). The load is `msab loadtest` (`--target janus` or `--target msab`: the same Swift media
legs either way) in this namespace. Server and driver are pinned (`taskset`) to different cores,
the same for every server. The server's CPU (user + system, from /proc/PID/stat, whole process)
is read by the load test at the start and end of the measured window, after every join settled;
divided by the packets the listeners received in that window it gives CPU per forwarded packet.

Environment: MSAB_BIN (release msab; the Makefile builds it), JANUS_BENCH_SECONDS (default 20),
JANUS_BENCH_SIZES (default "100,1000"), JANUS_BENCH_SERVER_CPU / JANUS_BENCH_DRIVER_CPU (cores,
default 1 and 0). Needs root (namespaces, apt).
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "python"))

from msabtest.netns import VethHost  # noqa: E402

JANUS_LIB = "/usr/lib/x86_64-linux-gnu/janus"
WS_PORT = 8188
MSAB_PORT = 3030
ROOM = 1234


# ── installing Janus without its daemon ─────────────────────────────────────────────────────────

def install_janus() -> str:
    """The janus binary; installs the Debian package first if it is missing. The package's
    postinst starts the daemon (stock config: HTTP 8088 and WS 8188 on every interface), so a
    policy-rc.d that answers 101 ("action forbidden") is in place during the install, and anything
    that started anyway is stopped and disabled."""
    found = shutil.which("janus")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    policy = "/usr/sbin/policy-rc.d"
    saved = None
    if os.path.exists(policy):
        with open(policy, "rb") as f:
            saved = f.read()
    try:
        script = "#!/bin/sh\n# msab janus_bench: keep the janus package from starting its daemon\nexit 101\n"
        subprocess.run(sudo + ["tee", policy], input=script.encode(), stdout=subprocess.DEVNULL, check=True)
        subprocess.run(sudo + ["chmod", "755", policy], check=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "janus"], check=True, env=env)
    finally:
        if saved is None:
            subprocess.run(sudo + ["rm", "-f", policy], check=False)
        else:
            with tempfile.NamedTemporaryFile("wb", delete=False) as f:
                f.write(saved)
            subprocess.run(sudo + ["install", "-m", "755", f.name, policy], check=False)
            os.unlink(f.name)
    # Where systemd runs, the unit may still have been enabled/started: stop and disable it.
    if shutil.which("systemctl") and os.path.isdir("/run/systemd/system"):
        subprocess.run(sudo + ["systemctl", "disable", "--now", "janus.service"], check=False, capture_output=True)
    found = shutil.which("janus")
    if not found:
        raise RuntimeError("janus is still not installed after apt-get install janus")
    return found


# ── configuration ───────────────────────────────────────────────────────────────────────────────

def write_janus_config(directory: str, address: str, interface: str, event_loops: int | None) -> None:
    """A config folder of our own: Janus's defaults (keys left out) plus ICE-lite, the namespace's
    address/interface, WebSockets on that address only, and the plugins/transports not needed off."""
    loops = f"\tevent_loops = {event_loops}\n" if event_loops else ""
    with open(os.path.join(directory, "janus.jcfg"), "w") as f:
        f.write(f"""general: {{
\tconfigs_folder = "{directory}"
\tplugins_folder = "{JANUS_LIB}/plugins"
\ttransports_folder = "{JANUS_LIB}/transports"
\tevents_folder = "{JANUS_LIB}/events"
\tloggers_folder = "{JANUS_LIB}/loggers"
\tinterface = "{address}"
{loops}}}
nat: {{
\tice_lite = true
\tice_enforce_list = "{interface}"
\tignore_mdns = true
}}
plugins: {{
\tdisable = "libjanus_audiobridge.so,libjanus_streaming.so,libjanus_sip.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_voicemail.so,libjanus_textroom.so,libjanus_echotest.so,libjanus_videocall.so,libjanus_lua.so,libjanus_duktape.so"
}}
transports: {{
\tdisable = "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_rabbitmq.so,libjanus_pfunix.so"
}}
events: {{
\tbroadcast = false
}}
""")
    with open(os.path.join(directory, "janus.transport.websockets.jcfg"), "w") as f:
        f.write(f"""general: {{
\tjson = "compact"
\tws = true
\tws_port = {WS_PORT}
\tws_ip = "{address}"
\twss = false
}}
admin: {{
\tadmin_ws = false
\tadmin_wss = false
}}
""")
    # No rooms configured: the load test's speaker creates its room (Opus) through the API.
    with open(os.path.join(directory, "janus.plugin.videoroom.jcfg"), "w") as f:
        f.write("general: {\n}\n")


# ── processes ───────────────────────────────────────────────────────────────────────────────────

def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))


def wait_tcp(host: str, port: int, proc: subprocess.Popen, timeout: float, netns: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class Result:
    server: str
    listeners: int
    report: dict

    @property
    def per_packet_us(self) -> float | None:
        cpu = self.report.get("server_cpu") or {}
        return cpu.get("per_delivered_packet_us")

    def _per_packet(self, key: str) -> float | None:
        cpu = self.report.get("server_cpu") or {}
        packets = cpu.get("packets_measured") or 0
        return cpu[key] * 1e6 / packets if packets and cpu.get(key) is not None else None

    @property
    def user_us(self) -> float | None:
        return self._per_packet("measure_user_s")

    @property
    def sys_us(self) -> float | None:
        return self._per_packet("measure_sys_s")

    @property
    def loss_pct(self) -> float:
        return self.report.get("loss_pct", 100.0)


def run_loadtest(msab_bin: str, args: list[str], driver_cpu: int, env: dict[str, str], log: str, timeout: float) -> dict:
    cmd = ["taskset", "-c", str(driver_cpu), msab_bin, "loadtest", *args, "--json"]
    with open(log, "ab") as err:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, env=env, timeout=timeout, preexec_fn=_raise_nofile)
    lines = [ln for ln in r.stdout.decode().splitlines() if ln.strip()]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"loadtest failed ({r.returncode}); see {log}")
    return json.loads(lines[-1])


def run_janus(janus_bin: str, msab_bin: str, host: VethHost, work: str, listeners: int, seconds: float,
              event_loops: int | None, server_cpu: int, driver_cpu: int) -> Result:
    name = "janus" if event_loops is None else f"janus event_loops={event_loops}"
    conf = tempfile.mkdtemp(prefix="janus-conf-", dir=work)
    write_janus_config(conf, host.far, host.far_if, event_loops)
    log = os.path.join(work, f"janus-{event_loops or 0}-{listeners}.log")
    with open(log, "ab") as out:
        # ip netns exec and taskset both exec: the Popen pid is Janus's own.
        proc = subprocess.Popen(host.exec_prefix() + ["taskset", "-c", str(server_cpu), janus_bin, "-F", conf],
                                stdout=out, stderr=subprocess.STDOUT, preexec_fn=_raise_nofile)
    try:
        wait_tcp(host.far, WS_PORT, proc, 30)
        report = run_loadtest(msab_bin, [
            "--target", "janus", "--janus-url", f"ws://{host.far}:{WS_PORT}", "--janus-room", str(ROOM),
            "--speakers", "1", "--listeners", str(listeners), "--concurrency", "50", "--duration", str(seconds),
            "--join-timeout", "60", "--server-pid", str(proc.pid)], driver_cpu, dict(os.environ),
            os.path.join(work, f"loadtest-{name.replace(' ', '-')}-{listeners}.log"), timeout=600)
    finally:
        stop(proc)
    return Result(name, listeners, report)


def run_msab(msab_bin: str, host: VethHost, work: str, listeners: int, seconds: float, server_cpu: int, driver_cpu: int) -> Result:
    data = tempfile.mkdtemp(prefix="msab-data-", dir=work)
    env = dict(os.environ)
    env.update({
        "MSAB_DATA_DIR": data, "MSAB_HOST": host.far, "PORT": str(MSAB_PORT),
        "MEDIASOUP_LISTEN_IP": host.far, "MEDIASOUP_ANNOUNCED_IP": host.far,
        "MEDIASOUP_RTC_MIN_PORT": "40000", "MEDIASOUP_RTC_MAX_PORT": "40100",
        # One media worker, as Janus forwards a room on one core here; no pipe to a second worker.
        "MEDIASOUP_NUM_WORKERS": "1", "MSAB_MAX_CONSUMERS_PER_WORKER": "100000",
        "MSAB_MAX_SESSIONS_PER_IP": "0", "MSAB_JWT_SECRET": os.urandom(24).hex(),
    })
    log = os.path.join(work, f"msab-{listeners}.log")
    with open(log, "ab") as out:
        proc = subprocess.Popen(host.exec_prefix() + ["taskset", "-c", str(server_cpu), msab_bin, "serve"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=data, preexec_fn=_raise_nofile)
    try:
        wait_tcp(host.far, MSAB_PORT, proc, 30)
        report = run_loadtest(msab_bin, [
            "--url", f"http://{host.far}:{MSAB_PORT}", "--room", "bench",
            "--speakers", "1", "--listeners", str(listeners), "--concurrency", "50", "--duration", str(seconds),
            "--join-timeout", "60", "--server-pid", str(proc.pid)], driver_cpu, env,
            os.path.join(work, f"loadtest-msab-{listeners}.log"), timeout=600)
    finally:
        stop(proc)
    return Result("msab", listeners, report)


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_run(r: Result) -> None:
    print(f"  {r.server:<22} N={r.listeners:<5} {fmt(r.per_packet_us)} µs/packet, loss {fmt(r.loss_pct, 3)} %, "
          f"joined {r.report.get('joined')}/{r.listeners + 1}, SRTP failures {r.report.get('srtp_auth_failures')}, "
          f"payloads not the sent Opus {r.report.get('foreign_payloads')}, speaker {fmt(r.report.get('speaker_frames_per_s'), 1)} frames/s", flush=True)


def main() -> int:
    if os.geteuid() != 0:
        print("janus_bench: needs root (network namespaces, apt)", file=sys.stderr)
        return 2
    msab_bin = os.environ.get("MSAB_BIN") or os.path.join(HERE, "..", ".build", "release", "msab")
    seconds = float(os.environ.get("JANUS_BENCH_SECONDS", "20"))
    sizes = [int(n) for n in os.environ.get("JANUS_BENCH_SIZES", "100,1000").split(",") if n.strip()]
    server_cpu = int(os.environ.get("JANUS_BENCH_SERVER_CPU", "1"))
    driver_cpu = int(os.environ.get("JANUS_BENCH_DRIVER_CPU", "0"))
    janus_bin = install_janus()
    version = subprocess.run([janus_bin, "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    work = tempfile.mkdtemp(prefix="janus-bench-")
    print(f"janus_bench: {version[0] if version else 'janus'}; msab {msab_bin}; 1 speaker, N = {sizes}, {seconds:g} s measured; "
          f"server on CPU {server_cpu}, load driver on CPU {driver_cpu}; logs in {work}", flush=True)
    results: list[Result] = []
    host = VethHost()
    # SIGTERM as Ctrl-C, so the namespace and the pair go away either way.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        host.create()
        print(f"janus_bench: namespace {host.name}, server {host.far} ({host.far_if}), driver {host.near} ({host.near_if})", flush=True)
        for n in sizes:
            for loops in (None, 2):
                results.append(run_janus(janus_bin, msab_bin, host, work, n, seconds, loops, server_cpu, driver_cpu))
                print_run(results[-1])
            results.append(run_msab(msab_bin, host, work, n, seconds, server_cpu, driver_cpu))
            print_run(results[-1])
    except KeyboardInterrupt:
        print("janus_bench: interrupted", file=sys.stderr)
        return 130
    finally:
        host.remove()

    print()
    print("server CPU per forwarded packet (µs: user + sys of the whole process over the measured window, and each apart;")
    print("on a veth the receivers' UDP delivery runs in the sender's softirq, so sys holds much of the driver's receive")
    print("path too, the same per packet for every server), speaker frames/s offered, listener loss, ratio to msab")
    print(f"{'N':>6}  {'server':<22} {'µs/packet':>10} {'user µs':>8} {'sys µs':>8} {'packets':>9} {'frames/s':>8} {'loss %':>8} "
          f"{'÷ msab':>7} {'user ÷':>7}")
    for n in sizes:
        rows = [r for r in results if r.listeners == n]
        base = next((r for r in rows if r.server == "msab"), None)
        for r in rows:
            ratio = (r.per_packet_us / base.per_packet_us) if (base and base.per_packet_us and r.per_packet_us) else None
            user_ratio = (r.user_us / base.user_us) if (base and base.user_us and r.user_us) else None
            print(f"{n:>6}  {r.server:<22} {fmt(r.per_packet_us):>10} {fmt(r.user_us):>8} {fmt(r.sys_us):>8} "
                  f"{(r.report.get('server_cpu') or {}).get('packets_measured', '-'):>9} {fmt(r.report.get('speaker_frames_per_s'), 1):>8} "
                  f"{fmt(r.loss_pct, 3):>8} {fmt(ratio):>7} {fmt(user_ratio):>7}")
    target = [r for r in results if r.listeners == 1000]
    if target:
        base = next((r for r in target if r.server == "msab"), None)
        janus = [r for r in target if r.server.startswith("janus") and r.per_packet_us]
        best = min(janus, key=lambda r: r.per_packet_us, default=None)
        if base and base.per_packet_us and best:
            ratio = best.per_packet_us / base.per_packet_us
            print(f"\ntarget (N = 1000): msab ≥ 4× less CPU per forwarded packet than Janus (its better configuration, {best.server}): "
                  f"{ratio:.2f}× — {'met' if ratio >= 4 else 'NOT met'}"
                  + (f"; user space alone {best.user_us / base.user_us:.2f}×" if base.user_us and best.user_us else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
