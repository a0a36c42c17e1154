"""Soak (issue 14 item 5, `make soak`): msab under churn for SOAK_SECONDS, watched from /proc.

Starts msab stand-alone on 127.0.0.1 (free port, temporary data directory; MSAB_BIN, default the
debug build), runs `msab loadtest --churn` against it for SOAK_SECONDS (default 1800) — listeners
and speakers joining and leaving, seats taken and left, side rooms opened and closed, chat — and
samples the server every second: RSS (/proc/PID/status VmRSS), open fds (/proc/PID/fd) and CPU
(/proc/PID/stat), plus the open rooms (GET /health). Prints one line per minute (per 10 s when
SOAK_SECONDS < 300) and a verdict.

Verdict: pass iff
- the load test counted 0 errors (failed joins or acks, `error` events, unexpected events, chats
  not echoed, silent listeners, SRTP tags that did not verify) and its loss stayed under 1 %;
- RSS and fds at the end are at most 10 % above their value after warm-up, and the open rooms
  at the end at most 10 % above it, or the side rooms in passing (about SOAK_CHURN × 0.8 open at a
  time; the slack is twice that, at least 4), whichever is more.
Warm-up: the first 25 % of the churn (at least 15 s) after the first joins settled — by then
every kind of change has happened many times, so allocator arenas, pools and caches have grown to
their working size. "Value after warm-up" is the median over the last 5 s of the warm-up, "at the
end" the median over the last 5 s of the run (single samples jump with joins in flight).
Exit status 0 on pass, 1 on fail.

Options (environment): SOAK_SECONDS, SOAK_SPEAKERS (2), SOAK_LISTENERS (50), SOAK_CHURN (changes
per second, 2), SOAK_CHAT_RATE (chats per second, 2), SOAK_SEED (1), SOAK_LOADTEST_BIN (the
`msab` whose `loadtest` drives the server; default MSAB_BIN). `--json FILE` writes the
samples and the verdict as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "python"))

from msabtest.server import MsabServer  # noqa: E402

TOLERANCE = 0.10
WARMUP_FRACTION = 0.25
WARMUP_MINIMUM = 15.0
WINDOW = 5.0
MAX_LOSS_PCT = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def read_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def count_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def open_rooms(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as r:
            return int(json.loads(r.read())["rooms"])
    except (OSError, ValueError, KeyError):
        return None


class Sampler(threading.Thread):
    """Samples the server once a second until stopped; `samples` holds
    (monotonic time, RSS KiB, fds, CPU seconds, rooms)."""

    def __init__(self, pid: int, url: str) -> None:
        super().__init__(daemon=True)
        self.pid, self.url = pid, url
        self.samples: list[tuple[float, int, int, float, int | None]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.samples.append((time.monotonic(), read_rss_kib(self.pid), count_fds(self.pid),
                                     cpu_seconds(self.pid), open_rooms(self.url)))
            except OSError:
                return  # the server is gone; the verdict says so
            self.stopped.wait(1.0)


class LoadtestReader(threading.Thread):
    """Reads the load test's stderr: the latest churn counters, when churn began, error lines."""

    FIELDS = re.compile(r"(\w+)=(\d+)")

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.counters: dict[str, int] = {}
        self.loss_pct = 0.0
        self.settled_at: float | None = None
        self.tail: list[str] = []

    def run(self) -> None:
        for line in self.stream:
            line = line.rstrip("\n")
            self.tail = (self.tail + [line])[-60:]
            if "all joins settled" in line and self.settled_at is None:
                self.settled_at = time.monotonic()
                print(f"soak: {line}", flush=True)
            elif line.startswith("loadtest error:"):
                print(f"soak: {line}", flush=True)
            elif "| churn " in line:
                self.counters = {k: int(v) for k, v in self.FIELDS.findall(line.split("| churn ", 1)[1])}
                loss = re.search(r"loss ([0-9.]+) %", line)
                if loss:
                    self.loss_pct = float(loss.group(1))


def median_in(samples, start: float, end: float, column: int) -> float | None:
    values = [s[column] for s in samples if start <= s[0] <= end and s[column] is not None]
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write samples and verdict to this file")
    args = parser.parse_args()
    seconds = float(os.environ.get("SOAK_SECONDS", "1800"))
    speakers = int(os.environ.get("SOAK_SPEAKERS", "2"))
    listeners = int(os.environ.get("SOAK_LISTENERS", "50"))
    churn = float(os.environ.get("SOAK_CHURN", "2"))
    chat_rate = float(os.environ.get("SOAK_CHAT_RATE", "2"))
    seed = int(os.environ.get("SOAK_SEED", "1"))
    interval = 60.0 if seconds >= 300 else 10.0
    warmup = max(WARMUP_MINIMUM, seconds * WARMUP_FRACTION)

    # No per-address session cap (every participant comes from 127.0.0.1); empty rooms close
    # within ~6 s instead of 30 s, so side rooms come and go within the run.
    server = MsabServer(env={"MSAB_MAX_SESSIONS_PER_IP": "0", "ROOM_INACTIVITY_TIMEOUT_MS": "5000",
                             "ROOM_AUTO_CLOSE_POLL_INTERVAL_MS": "1000"})
    server.start()
    pid = server.proc.pid
    print(f"soak: msab {server.binary} pid {pid} at {server.url}; {seconds:.0f} s of churn: {speakers} speakers, "
          f"{listeners} listeners, {churn:g} changes/s, {chat_rate:g} chats/s, seed {seed}; warm-up {warmup:.0f} s",
          flush=True)
    sampler = Sampler(pid, server.url)
    sampler.start()
    # The load client may come from another build of the same source (SOAK_LOADTEST_BIN).
    client = os.environ.get("SOAK_LOADTEST_BIN") or server.binary
    cmd = [client, "loadtest", "--url", server.url, "--room", "soak", "--speakers", str(speakers),
           "--listeners", str(listeners), "--concurrency", str(max(10, listeners)), "--duration", str(seconds),
           "--churn", str(churn), "--chat-rate", str(chat_rate), "--seed", str(seed), "--server-pid", str(pid), "--json"]
    loadtest = subprocess.Popen(cmd, env=server._process_env(), cwd=server._own_tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    reader = LoadtestReader(loadtest.stderr)
    reader.start()
    report: dict = {}
    try:
        next_line = None
        while loadtest.poll() is None:
            time.sleep(0.5)
            if reader.settled_at is None:
                continue
            if next_line is None:
                next_line = reader.settled_at + interval
                print(f"{'t':>6} {'RSS MiB':>8} {'fds':>5} {'CPU %':>6} {'rooms':>5} {'joins':>6} {'leaves':>6} "
                      f"{'seats':>9} {'side':>5} {'chats':>6} {'errors':>6}", flush=True)
            if time.monotonic() >= next_line and sampler.samples:
                print_line(sampler.samples, reader, reader.settled_at, interval)
                next_line += interval
        out, _ = loadtest.communicate(timeout=60)
        lines = [ln for ln in out.splitlines() if ln.strip()]
        if lines:
            report = json.loads(lines[-1])
    finally:
        sampler.stopped.set()
        sampler.join(5)
        if loadtest.poll() is None:
            loadtest.kill()
        server.stop()
    reader.join(5)
    # Side rooms in passing: 10 % of the changes open one, which lives ~2 s, then ~6 s empty
    # before it closes, so about churn × 0.1 × 8 are open at any moment; twice that, at least 4.
    room_slack = max(4.0, 2 * churn * 0.1 * 8)
    return verdict(sampler.samples, reader, report, warmup, loadtest.returncode, server, args.json, room_slack)


def print_line(samples, reader: LoadtestReader, origin: float, interval: float) -> None:
    now = samples[-1]
    before = [s for s in samples if s[0] <= now[0] - interval + 0.5]
    cpu = (now[3] - before[-1][3]) / (now[0] - before[-1][0]) * 100 if before and now[0] > before[-1][0] else 0.0
    c = reader.counters
    print(f"{now[0] - origin:6.0f} {now[1] / 1024:8.1f} {now[2]:5d} {cpu:6.1f} {now[4] if now[4] is not None else '-':>5} "
          f"{c.get('joins', 0):6d} {c.get('leaves', 0):6d} {c.get('seat_takes', 0):4d}/{c.get('seat_leaves', 0):<4d} "
          f"{c.get('side_rooms', 0):5d} {c.get('chats', 0):6d} {c.get('errors', 0):6d}", flush=True)


def verdict(samples, reader: LoadtestReader, report: dict, warmup: float, returncode: int | None, server: MsabServer,
            json_path: str | None, room_slack: float) -> int:
    problems: list[str] = []
    churn = report.get("churn") or {}
    errors = churn.get("errors", {})
    if returncode != 0 or not report:
        problems.append(f"the load test did not finish cleanly (exit {returncode})")
        print("\n".join(reader.tail[-20:]))
    if churn.get("errors_total", 0):
        problems.append(f"{churn['errors_total']} errors: " + ", ".join(f"{k} ×{v}" for k, v in errors.items()))
    if report.get("loss_pct", 0) >= MAX_LOSS_PCT:
        problems.append(f"loss {report['loss_pct']} % ≥ {MAX_LOSS_PCT} %")
    result = {"warmup_s": warmup, "samples": samples, "report": report}
    if reader.settled_at is None or not samples:
        problems.append("the churn never started")
    else:
        base_at = reader.settled_at + warmup
        end_at = samples[-1][0]
        if end_at - base_at < 2 * WINDOW:
            problems.append("the run ended before the warm-up did")
        for name, column, slack in (("RSS", 1, 0), ("fds", 2, 0), ("rooms", 4, room_slack)):
            base = median_in(samples, base_at - WINDOW, base_at, column)
            end = median_in(samples, end_at - WINDOW, end_at, column)
            if base is None or end is None:
                problems.append(f"no {name} samples")
                continue
            limit = max(base * (1 + TOLERANCE), base + slack)
            growth = (end - base) / base * 100 if base else 0.0
            shown = (lambda v: f"{v / 1024:.1f} MiB") if column == 1 else (lambda v: f"{v:.0f}")
            print(f"soak: {name} after warm-up {shown(base)}, at the end {shown(end)} ({growth:+.1f} %; limit {shown(limit)})")
            result[name] = {"after_warmup": base, "end": end, "limit": limit}
            if end > limit:
                problems.append(f"{name} grew from {shown(base)} to {shown(end)} ({growth:+.1f} %)")
    if report:
        print(f"soak: churn {churn.get('joins', 0)} joins, {churn.get('leaves', 0)} leaves, {churn.get('seat_takes', 0)} seat takes, "
              f"{churn.get('seat_leaves', 0)} seat leaves, {churn.get('side_rooms', 0)} side rooms, {churn.get('chats_sent', 0)} chats "
              f"({churn.get('chats_echoed', 0)} echoed); audio: {report.get('packets_received', 0)} packets, loss "
              f"{report.get('loss_pct', 0)} %, SRTP auth failures {report.get('srtp_auth_failures', 0)}; errors "
              f"{churn.get('errors_total', 0)}")
    result["problems"] = problems
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f)
    if problems:
        print("soak: FAIL — " + "; ".join(problems), flush=True)
        if any("did not finish" in p for p in problems):
            print("--- server log (tail) ---\n" + server.log()[-3000:])
        return 1
    print("soak: PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
