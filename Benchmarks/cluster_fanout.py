"""Issue 12 benchmark: a room of 1,000 sockets spread over two msab nodes sharing one redis-server.

`msab loadtest --sockets 1000 --room-messages M --also-url B` (Sources/LoadTest/RoomFanoutRunner):
1,000 Socket.IO clients in one Swift process on one core, joined to one room, alternating between
node A and node B. The first client (on A) sends chat messages at a steady rate; every client's
arrival is timed against the send, so the figures per node are the servers' delivery latency to
all 1,000 sockets (not a few probes), and the difference between B's and A's p50 is what crossing
nodes through Redis adds. Then a burst of messages back to back: broadcasts/s through Redis and
socket deliveries/s cluster-wide. Swift clients cost the machine a fraction of what the servers
do; the Python probes this bench used before cost more than the servers and set the figures.

Also prints each node's CPU over the whole run (connects, joins, steady and burst).
Run by `make bench` (MSAB_BIN = the release build). Loopback only; everything started is stopped.
"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "python"))

from msabtest.cluster import Cluster  # noqa: E402
from msabtest.server import cpu_times  # noqa: E402

SOCKETS = int(os.environ.get("CLUSTER_BENCH_SOCKETS", "1000"))
MESSAGES = int(os.environ.get("CLUSTER_BENCH_MESSAGES", "100"))
RATE = float(os.environ.get("CLUSTER_BENCH_RATE", "5"))
BURST = int(os.environ.get("CLUSTER_BENCH_BURST", "200"))
PIN = os.environ.get("CLUSTER_BENCH_PIN", "0") == "1"


def main():
    # SIGTERM (a `timeout`, Ctrl-C from make) still runs the `finally` below: nothing is left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binary = os.environ["MSAB_BIN"]
    cluster = Cluster(binary, nodes=2, env={
        "RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000", "MSAB_ROOM_EVENTS_PER_MINUTE": "1000000",
        "MSAB_MAX_SESSIONS_PER_IP": "0", "LOG_LEVEL": "warning"})
    try:
        cluster.start()
        a, b = cluster.nodes
        if PIN and (os.cpu_count() or 1) >= 2:
            # Optional (CLUSTER_BENCH_PIN=1): each node on a core of its own (all its threads), Redis
            # and the clients floating. On 2 cores it is worse, not better: a node's socket loops
            # and its Redis loop then share one core while the other core takes everything else.
            for cpu, node in enumerate((a, b)):
                subprocess.run(["taskset", "-a", "-cp", str(cpu), str(node.proc.pid)], check=True, capture_output=True)
        before = [cpu_times(n.proc.pid) for n in (a, b)]
        cmd = [binary, "loadtest", "--url", a.url, "--also-url", b.url, "--room", "bench", "--sockets", str(SOCKETS),
               "--concurrency", "200", "--room-messages", str(MESSAGES), "--room-rate", str(RATE),
               "--room-burst", str(BURST), "--json"]
        run = subprocess.run(cmd, env={**os.environ, "MSAB_JWT_SECRET": cluster.secret}, capture_output=True, text=True,
                             timeout=600)
        after = [cpu_times(n.proc.pid) for n in (a, b)]
        lines = [line for line in run.stdout.splitlines() if line.strip()]
        if run.returncode != 0 or not lines:
            print(run.stdout, run.stderr, sep="\n")
            raise SystemExit(f"loadtest failed ({run.returncode})")
        report = json.loads(lines[-1])
        home, other = report["nodes"]
        print(f"{report['connected']}/{SOCKETS} sockets in one room over 2 nodes ({home['clients']} + {other['clients']}), "
              f"joined in {report['connect_s']} s, {report['failed']} failed")
        print(f"steady {RATE:g} msg/s, {MESSAGES} chat messages from a client on A, each timed to every socket:")
        for name, node in (("same node  (A)", home), ("other node (B)", other)):
            print(f"  {name}: p50 {node['latency_ms']['p50']:.2f} ms  p99 {node['latency_ms']['p99']:.2f} ms  "
                  f"({node['delivered']}/{MESSAGES * node['clients']} deliveries)")
        print(f"  crossing nodes through Redis adds {other['adds_p50_ms']:.2f} ms at p50 (target < 1 ms)")
        print(f"  first socket reached per message (p50): A {home['first_ms']['p50']:.2f} ms, B {other['first_ms']['p50']:.2f} ms "
              f"(B starts its fan-out {other['first_ms']['p50'] - home['first_ms']['p50']:.2f} ms after A)")
        print(f"burst: {BURST} messages back to back, the last on every socket after {report['burst_s'] * 1000:.0f} ms: "
              f"{report['broadcasts_per_s']:.0f} broadcasts/s through Redis, {report['deliveries_per_s']:.0f} socket "
              f"deliveries/s ({report['burst_delivered']}/{report['burst_expected']})")
        print(f"  client (one Swift process): {report['client_cpu_user_s']:.2f} s user + {report['client_cpu_sys_s']:.2f} s sys; "
              + "; ".join(f"node {n} over the run: {u1 - u0:.2f} s user + {s1 - s0:.2f} s sys"
                          for n, (u0, s0), (u1, s1) in zip("AB", before, after)))
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
