"""Issue 14 item 2: one event broadcast to 10,000 connected WebSocket clients.

`msab loadtest --sockets N` connects N signalling-only clients (real TCP sockets, Swift, one event
loop, in its own process), then broadcasts events to all of them through `POST /internal/events`
(contract §7.2 with no user and no room: `io.emit`), one at a time, each waiting until every client
got it. The server's CPU comes from /proc for the burst, minus its idle rate for the same clients
(heartbeats) measured just before; user and kernel time are reported apart — kernel time is mostly
loopback TCP and the same for any server. Target: <= 3 us of user-space server CPU per recipient.

Run by `make bench` (msab from MSAB_BIN, a release build). BROADCAST_SOCKETS (default 10000) and
BROADCAST_EVENTS (default 30) change the load.
"""
import json
import os
import secrets
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "python"))

from msabtest.server import MsabServer  # noqa: E402

TARGET_USER_US = 3.0


def main() -> int:
    sockets = int(os.environ.get("BROADCAST_SOCKETS", "10000"))
    events = int(os.environ.get("BROADCAST_EVENTS", "30"))
    key = secrets.token_hex(16)
    env = {"MSAB_INTERNAL_KEY": key, "MSAB_MAX_SESSIONS_PER_IP": "0", "MSAB_MAX_SESSIONS": "0"}
    with MsabServer(binary=os.environ.get("MSAB_BIN"), env=env) as server:
        command = [server.binary, "loadtest", "--url", server.url, "--sockets", str(sockets), "--events", str(events),
                   "--concurrency", "500", "--server-pid", str(server.proc.pid), "--json"]
        run_env = dict(os.environ, MSAB_JWT_SECRET=server.env["MSAB_JWT_SECRET"], MSAB_INTERNAL_KEY=key,
                       MSAB_DATA_DIR=server.data_dir)
        result = subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=600)
        sys.stderr.write(result.stderr[-4000:])
        if result.returncode != 0 or not result.stdout.strip():
            print(f"broadcast bench: loadtest exited {result.returncode}")
            return 1
        report = json.loads(result.stdout.strip().splitlines()[-1])
    user, system = report["server_user_us_per_recipient"], report["server_sys_us_per_recipient"]
    print(f"broadcast to {report['connected']} WebSocket clients, {report['events']} events: "
          f"{report['delivered']}/{report['expected']} delivered; POST -> last client p50 {report['latency_ms']['p50']} ms, "
          f"p95 {report['latency_ms']['p95']} ms")
    print(f"  server CPU per recipient: {user} us user + {system} us kernel "
          f"(target <= {TARGET_USER_US} us user: {'met' if user is not None and user <= TARGET_USER_US else 'NOT met'})")
    return 0 if report["delivered"] == report["expected"] and report["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
