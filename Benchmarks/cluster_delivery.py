"""Issue 12 item 9: cross-node delivery through Redis, for one room of 1,000 sockets on two nodes.

Starts redis-server and two msab nodes (msabtest.cluster.Cluster; msab from MSAB_BIN), connects
1,000 background sockets to one room (half on each node, in two worker processes that read and
discard what they get, as phones would), then three probe sockets in this process: a sender S and a
probe P0 on node 0, a probe P1 on node 1.

1. Latency: S sends CLUSTER_BENCH_MESSAGES (300) `chat:message`s, one every 10 ms (the room is not
   saturated). For each message: local = P0's arrival − send, remote = P1's arrival − send. The
   price of the Redis hop is remote − local, per message (both probes wait behind the same fan-out
   of ~500 sockets on their node). Prints p50/p99 of local, remote and of the difference.
2. Throughput: S sends CLUSTER_BENCH_BURST (2,000) messages as fast as msab takes them (at most 200
   unacknowledged, as its per-socket inbound queue is bounded); events per second = messages ÷
   (last arrival at P1 − first send), socket deliveries per second = that × sockets in the room.

The background sockets and the probes are a minimal Engine.IO 4 / Socket.IO 5 websocket client
(below), not python-socketio: a thousand python-socketio clients decoding every event would spend
more CPU than the servers and measure themselves. Tokens are HS256 JWTs minted here with the
cluster's secret (the claims of TokenAuthority). Target (issue 12): remote − local < 1 ms at p50.
CLUSTER_BENCH_STANDALONE=1 runs the same on one stand-alone node (no Redis) as the baseline.
Run by `make bench`; prints one JSON line at the end.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "python"))

import aiohttp  # noqa: E402

from msabtest.cluster import Cluster  # noqa: E402
from msabtest.server import default_msab_bin  # noqa: E402

ROOM = "cluster-bench"


def mint(secret: str, user: int, name: str) -> str:
    """An msab stand-alone token (HS256; `sub`, `exp`, `name`)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": str(user), "exp": int(time.time()) + 3600, "name": name}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


class WireSocket:
    """Engine.IO 4 over websocket + Socket.IO 5 on `/`: connect with a token, acks, events.
    ``watch``: event names whose arrivals are recorded as (monotonic time, payload)."""

    def __init__(self, session: aiohttp.ClientSession, watch: tuple[str, ...] = ()) -> None:
        self.session = session
        self.watch = watch
        self.arrivals: list[tuple[float, str, object]] = []
        self.frames = 0
        self._acks: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._connected: asyncio.Future | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task | None = None
        self.arrived = asyncio.Event()

    async def open(self, base: str, token: str) -> None:
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.session.ws_connect(url, max_msg_size=0, autoping=False)
        first = await self.ws.receive_str()
        assert first.startswith("0{"), first
        self._connected = asyncio.get_running_loop().create_future()
        self._task = asyncio.ensure_future(self._read())
        await self.ws.send_str("40" + json.dumps({"token": token}))
        await asyncio.wait_for(self._connected, 30)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = msg.data
            self.frames += 1
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith("42"):
                if self.watch:
                    now = time.monotonic()
                    name, payload = (json.loads(data[2:]) + [None])[:2]
                    if name in self.watch:
                        self.arrivals.append((now, name, payload))
                        self.arrived.set()
            elif data.startswith("43"):
                body = data[2:]
                i = 0
                while i < len(body) and body[i].isdigit():
                    i += 1
                fut = self._acks.pop(int(body[:i]), None)
                if fut is not None and not fut.done():
                    fut.set_result(json.loads(body[i:]))
            elif data.startswith("40") and self._connected is not None and not self._connected.done():
                self._connected.set_result(True)
            elif data.startswith("44") and self._connected is not None and not self._connected.done():
                self._connected.set_exception(RuntimeError(f"refused: {data}"))

    async def call(self, event: str, payload: object, timeout: float = 30) -> object:
        assert self.ws is not None
        self._next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self._acks[self._next_id] = fut
        await self.ws.send_str(f"42{self._next_id}" + json.dumps([event, payload]))
        return await asyncio.wait_for(fut, timeout)

    async def emit(self, event: str, payload: object) -> None:
        assert self.ws is not None
        await self.ws.send_str("42" + json.dumps([event, payload]))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            self._task.cancel()


BATCH = int(os.environ.get("CLUSTER_BENCH_JOIN_BATCH", "10"))


async def _background(url: str, tokens: list[str], ready, stop) -> int:
    # no connection cap (aiohttp's default of 100 would park the 101st websocket)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = []
        for i in range(0, len(tokens), BATCH):
            started = time.monotonic()
            batch = [WireSocket(session) for _ in tokens[i:i + BATCH]]
            await asyncio.gather(*(s.open(url, t) for s, t in zip(batch, tokens[i:i + BATCH])))
            acks = await asyncio.gather(*(s.call("room:join", {"roomId": ROOM}) for s in batch))
            bad = [a for a in acks if not (isinstance(a, list) and a and "rtpCapabilities" in a[0])]
            assert not bad, f"joins {i}..{i + len(batch)} on {url}: {bad[:2]}"
            sockets += batch
            if os.environ.get("CLUSTER_BENCH_VERBOSE"):
                print(f"{url}: {len(sockets)} joined, last {len(batch)} in {time.monotonic() - started:.2f}s", flush=True)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        frames = sum(s.frames for s in sockets)
        for s in sockets:
            await s.close()
        return frames


def background(url: str, tokens: list[str], ready, stop, out) -> None:
    out.put(asyncio.run(_background(url, tokens, ready, stop)))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(c: Cluster, messages: int, burst: int, members: int, remote_node: int = 1) -> dict:
    async with aiohttp.ClientSession() as session:
        sender = WireSocket(session, watch=("chat:message",))
        p0 = WireSocket(session, watch=("chat:message",))
        p1 = WireSocket(session, watch=("chat:message",))
        for sock, node, uid in ((sender, 0, 1), (p0, 0, 2), (p1, remote_node, 3)):
            await sock.open(c.nodes[node].url, mint(c.secret, uid, f"probe{uid}"))
            await sock.call("room:join", {"roomId": ROOM})

        async def arrival(sock: WireSocket, content: str, timeout: float = 10) -> float:
            deadline = time.monotonic() + timeout
            while True:
                sock.arrived.clear()  # before looking, so an arrival after the look wakes the wait
                for t, _, payload in reversed(sock.arrivals):
                    if isinstance(payload, dict) and payload.get("content") == content:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{content} never arrived")
                try:
                    await asyncio.wait_for(sock.arrived.wait(), left)
                except asyncio.TimeoutError:
                    pass

        # 1. latency, paced
        local, remote, added = [], [], []
        for i in range(messages):
            content = f"lat-{i}"
            sent = time.monotonic()
            await sender.emit("chat:message", {"roomId": ROOM, "content": content})
            t0, t1 = await arrival(p0, content), await arrival(p1, content)
            local.append((t0 - sent) * 1000)
            remote.append((t1 - sent) * 1000)
            added.append((t1 - t0) * 1000)
            await asyncio.sleep(0.01)

        print(f"latency over {messages} messages: local p50 {pct(local, 0.5):.2f} ms, remote p50 {pct(remote, 0.5):.2f} ms, "
              f"added p50 {pct(added, 0.5):.2f} ms p99 {pct(added, 0.99):.2f} ms", flush=True)

        # 2. throughput, a burst with at most `window` unanswered (the sender's own echo, or an
        # `error` event, answers a message)
        def answered() -> int:
            return sum(1 for _, name, p in sender.arrivals
                       if name == "error" or (isinstance(p, dict) and str(p.get("content", "")).startswith("burst-")))

        async def until(predicate, timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while not predicate():
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.005)
            return True

        sender.watch = ("chat:message", "error")
        window = 200
        first = time.monotonic()
        for i in range(burst):
            if i >= window and not await until(lambda: answered() >= i - window + 1, 30):
                raise TimeoutError(f"burst: {answered()} of {i} messages answered after 30 s")
            await sender.emit("chat:message", {"roomId": ROOM, "content": f"burst-{i}"})

        def burst_arrivals(sock: WireSocket) -> list[float]:
            return [t for t, _, p in sock.arrivals if isinstance(p, dict) and str(p.get("content", "")).startswith("burst-")]

        await until(lambda: answered() >= burst, 60)
        errors = [p for _, name, p in sender.arrivals if name == "error"]
        expected = burst - len(errors)
        await until(lambda: len(burst_arrivals(p1)) >= expected and len(burst_arrivals(p0)) >= expected, 60)
        remote_times, local_times = burst_arrivals(p1), burst_arrivals(p0)
        got_remote = len(remote_times)
        elapsed = (max(remote_times) if remote_times else time.monotonic()) - first
        last_local = max(local_times) if local_times else time.monotonic()
        if errors:
            print(f"burst: {len(errors)} messages refused, e.g. {errors[:2]}", flush=True)
        for sock in (sender, p0, p1):
            await sock.close()
    return {
        "room_sockets": members,
        "latency_ms": {
            "local_p50": pct(local, 0.5), "local_p99": pct(local, 0.99),
            "remote_p50": pct(remote, 0.5), "remote_p99": pct(remote, 0.99),
            "added_p50": pct(added, 0.5), "added_p99": pct(added, 0.99), "messages": messages},
        "throughput": {
            "messages": burst, "refused": len(errors), "received_remote": got_remote, "seconds": elapsed,
            "events_per_s": got_remote / elapsed, "socket_deliveries_per_s": got_remote / elapsed * members,
            "local_events_per_s": len(local_times) / max(last_local - first, 1e-9)},
    }


def main() -> None:
    sockets = int(os.environ.get("CLUSTER_BENCH_SOCKETS", "1000"))
    messages = int(os.environ.get("CLUSTER_BENCH_MESSAGES", "300"))
    burst = int(os.environ.get("CLUSTER_BENCH_BURST", "2000"))
    env = {"LOG_LEVEL": "error", "MSAB_MAX_SESSIONS_PER_IP": "0", "MSAB_MAX_SESSIONS": "0",
           "RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000", "MSAB_ROOM_EVENTS_PER_MINUTE": "1000000",
           "MSAB_PING_INTERVAL_MS": "60000", "MAX_CLIENTS_PER_ROOM": "100000"}
    # CLUSTER_BENCH_STANDALONE=1: the same room on one stand-alone node (no Redis), for comparison
    standalone = os.environ.get("CLUSTER_BENCH_STANDALONE") == "1"
    if standalone:
        env["REDIS_HOST"] = ""  # empty = unset: msab runs stand-alone
    c = Cluster(default_msab_bin(), nodes=1 if standalone else 2, env=env)
    c.start()
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    procs, outs = [], []
    try:
        started = time.monotonic()
        for half in range(2):
            tokens = [mint(c.secret, 100_000 + half * 10_000 + i, f"bg{i}") for i in range(sockets // 2)]
            ready, out = ctx.Event(), ctx.Queue()
            url = c.nodes[half % len(c.nodes)].url
            proc = ctx.Process(target=background, args=(url, tokens, ready, stop, out), daemon=True)
            proc.start()
            procs.append((proc, ready))
            outs.append(out)
        for proc, ready in procs:
            while not ready.wait(1):
                if not proc.is_alive():
                    raise RuntimeError(f"a background process died:\n{c.logs()}")
        print(f"{sockets} background sockets joined in {time.monotonic() - started:.1f} s")
        # CLUSTER_BENCH_REMOTE_NODE=0 puts P1 on the sender's node too (both probes local)
        remote_node = 0 if standalone else int(os.environ.get("CLUSTER_BENCH_REMOTE_NODE", "1"))
        result = asyncio.run(measure(c, messages, burst, sockets + 3, remote_node))
        lat, thr = result["latency_ms"], result["throughput"]
        where = "one stand-alone node (no Redis)" if standalone else f"{len(c.nodes)} nodes"
        print(f"cross-node delivery, room of {sockets + 3} sockets on {where}, {messages} messages: "
              f"local p50 {lat['local_p50']:.2f} ms p99 {lat['local_p99']:.2f} ms; "
              f"remote p50 {lat['remote_p50']:.2f} ms p99 {lat['remote_p99']:.2f} ms; "
              f"added by Redis p50 {lat['added_p50']:.2f} ms p99 {lat['added_p99']:.2f} ms (target < 1 ms at p50)")
        print(f"through Redis: {thr['events_per_s']:.0f} events/s to the room "
              f"({thr['socket_deliveries_per_s']:.0f} socket deliveries/s), burst of {burst}, "
              f"{thr['received_remote']}/{burst} arrived on the other node")
        stop.set()
        result["background_frames"] = [o.get(timeout=30) for o in outs]
        result["msab"] = default_msab_bin()
        result["mode"] = "stand-alone" if standalone else "cluster"
        result["load_average"] = os.getloadavg()
        print(json.dumps(result))
    finally:
        stop.set()
        for proc, _ in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        c.close()


if __name__ == "__main__":
    main()
