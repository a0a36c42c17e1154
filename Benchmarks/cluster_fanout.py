"""Issue 12 benchmark: a room of 1,000 sockets spread over two msab nodes sharing one redis-server.

One sender on node A sends `chat:message`s to the room. Probe sockets (on A and on B) time each
message from the send to its arrival; every other socket only drains its connection (it is
there so each broadcast really fans out to 1,000 sockets, half of them across Redis). The
draining sockets live in two child processes (one per node), so the probes' event loop is not
busy reading 1,000 sockets when a message arrives: the latencies are the servers', not the
bench's own queueing.

Prints, measured in the same run:
- delivery latency p50/p99 to sockets on the sender's node (A) and on the other node (B), at a
  steady 5 messages/s; their difference is what crossing nodes through Redis adds;
- a burst: N messages sent back to back (N ≤ 256: a socket's queued events are bounded there), the time until the last one reached every probe on B,
  as broadcasts/s through Redis and socket deliveries/s cluster-wide.
Run by `make bench` (MSAB_BIN = the release build). Loopback only; everything started is stopped.
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import statistics
import sys
import time

import aiohttp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "python"))

from msabtest.server import MsabServer, RedisServer, cpu_times  # noqa: E402

SOCKETS = int(os.environ.get("CLUSTER_BENCH_SOCKETS", "1000"))
PROBES_PER_NODE = 4
STEADY_MESSAGES = int(os.environ.get("CLUSTER_BENCH_MESSAGES", "100"))
STEADY_RATE = float(os.environ.get("CLUSTER_BENCH_RATE", "5"))
BURST_MESSAGES = int(os.environ.get("CLUSTER_BENCH_BURST", "200"))
ROOM = "bench"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: str, user: int) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": str(user), "name": f"U{user}", "exp": int(time.time()) + 3600}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


class Passive(asyncio.Protocol):
    """A listener that costs the client almost nothing: a raw WebSocket whose frames are not
    parsed once it has joined, only counted (each delivery carries the event name once)."""

    MARK = b"chat:message"

    def __init__(self):
        self.buffer = b""
        self.joined = asyncio.get_running_loop().create_future()
        self.count = 0
        self.tail = b""

    def data_received(self, data):
        if not self.joined.done():
            self.buffer += data
            if b"430" in self.buffer:  # the join's ack (frames are small and unmasked: the text is there as is)
                self.joined.set_result(True)
            return
        chunk = self.tail + data
        self.count += chunk.count(self.MARK)
        self.tail = chunk[-(len(self.MARK) - 1):]


def frame(text: str) -> bytes:
    """A masked client text frame (RFC 6455 §5.2)."""
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    n = len(payload)
    if n < 126:
        header += bytes([0x80 | n])
    else:
        header += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def open_passive(url, tok):
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(Passive, host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    transport.write((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    transport.write(frame("40" + json.dumps({"token": tok})))
    transport.write(frame("420" + json.dumps(["room:join", {"roomId": ROOM}])))
    await asyncio.wait_for(protocol.joined, 60)
    return transport, protocol


class Sock:
    """A Socket.IO v4 client over a raw WebSocket (Engine.IO v4), just enough for the bench."""

    def __init__(self, session, url, tok, probe=False):
        self.session, self.url, self.tok, self.probe = session, url, tok, probe
        self.arrivals = {}  # message index → monotonic arrival
        self.acks = {}
        self.next_ack = 0
        self.count = 0

    async def open(self):
        ws_url = self.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.session.ws_connect(ws_url, max_msg_size=0)
        opening = await self.ws.receive_str()
        assert opening.startswith("0"), opening
        await self.ws.send_str("40" + json.dumps({"token": self.tok}))
        connected = await self.ws.receive_str()
        assert connected.startswith("40"), connected
        self.reader = asyncio.create_task(self.read())

    async def read(self):
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = msg.data
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith("43"):
                i = 2
                while data[i].isdigit():
                    i += 1
                fut = self.acks.pop(int(data[2:i]), None)
                if fut and not fut.done():
                    fut.set_result(json.loads(data[i:]))
            elif data.startswith("42"):
                self.count += 1
                if self.probe:
                    now = time.monotonic()
                    event, payload = json.loads(data[2:])[:2]
                    if event == "chat:message":
                        self.arrivals[payload["content"]] = now

    async def call(self, event, payload):
        ack_id = self.next_ack
        self.next_ack += 1
        fut = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = fut
        await self.ws.send_str(f"42{ack_id}" + json.dumps([event, payload]))
        return await asyncio.wait_for(fut, 30)

    async def emit(self, event, payload):
        await self.ws.send_str("42" + json.dumps([event, payload]))

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000


async def passive_group(conn, urls, users, secret):
    """A child process's part: open, join and drain `users`' sockets; answer "count" and "stop"."""
    passive = []
    for chunk in range(0, len(users), 100):
        passive += await asyncio.gather(*(open_passive(urls[i % 2], token(secret, users[i])) for i in range(chunk, min(len(users), chunk + 100))))
    conn.send("joined")
    loop = asyncio.get_running_loop()
    commands = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    while (command := await commands.get()) != "stop":
        conn.send(sum(p.count for _, p in passive))
    for transport, _ in passive:
        transport.close()


def passive_main(conn, urls, users, secret):
    asyncio.run(passive_group(conn, urls, users, secret))


class PassiveProcess:
    """Draining sockets in a child process (fork), one per node."""

    def __init__(self, url, users, secret):
        import multiprocessing
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=passive_main, args=(child, [url, url], users, secret), daemon=True)
        self.process.start()

    async def joined(self):
        loop = asyncio.get_running_loop()
        message = await asyncio.wait_for(loop.run_in_executor(None, self.conn.recv), 300)
        assert message == "joined", message

    async def count(self):
        self.conn.send("count")
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    def stop(self):
        try:
            self.conn.send("stop")
        except OSError:
            pass
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


async def run(a, b, secret):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        socks = []
        for i in range(PROBES_PER_NODE * 2 + 1):
            node = a if i % 2 == 0 else b
            socks.append(Sock(session, node.url, token(secret, i + 1), probe=i > 0))
        started = time.monotonic()
        await asyncio.gather(*(s.open() for s in socks))
        for s in socks:
            await s.call("room:join", {"roomId": ROOM})
        rest = range(len(socks) + 1, SOCKETS + 1)  # user ids of the draining sockets
        passive = [PassiveProcess(a.url, [u for u in rest if u % 2 == 1], secret),
                   PassiveProcess(b.url, [u for u in rest if u % 2 == 0], secret)]
        try:
            await asyncio.gather(*(p.joined() for p in passive))
            await measure(a, b, socks, passive, started)
        finally:
            for p in passive:
                p.stop()
            await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)


async def passive_count(passive):
    return sum(await asyncio.gather(*(p.count() for p in passive)))


async def measure(a, b, socks, passive, started):
    print(f"{SOCKETS} sockets connected and joined ({SOCKETS // 2} per node) in {time.monotonic() - started:.1f} s", flush=True)
    await asyncio.sleep(1)
    sender = socks[0]
    probes_a = [s for s in socks if s.probe and s.url == a.url]
    probes_b = [s for s in socks if s.probe and s.url == b.url]

    # Steady: a rate the machine sustains, so the figures are latency, not queueing.
    sent = {}
    for i in range(STEADY_MESSAGES):
        key = f"s{i}"
        sent[key] = time.monotonic()
        await sender.emit("chat:message", {"roomId": ROOM, "content": key})
        await asyncio.sleep(1 / STEADY_RATE)
    await asyncio.sleep(2)
    lat_a = [p.arrivals[k] - t for p in probes_a for k, t in sent.items() if k in p.arrivals]
    lat_b = [p.arrivals[k] - t for p in probes_b for k, t in sent.items() if k in p.arrivals]
    expected = STEADY_MESSAGES * len(probes_a)
    print(f"steady {STEADY_RATE:g} msg/s, {STEADY_MESSAGES} messages, each to {SOCKETS} sockets:")
    print(f"  same node  (A): p50 {pct(lat_a, 50):.2f} ms  p99 {pct(lat_a, 99):.2f} ms  ({len(lat_a)}/{expected} probe deliveries)")
    print(f"  other node (B): p50 {pct(lat_b, 50):.2f} ms  p99 {pct(lat_b, 99):.2f} ms  ({len(lat_b)}/{expected} probe deliveries)")
    print(f"  crossing nodes through Redis adds {pct(lat_b, 50) - pct(lat_a, 50):.2f} ms at p50 (target < 1 ms)")

    # Burst.
    before = sum(s.count for s in socks) + await passive_count(passive)
    cpu_before = [cpu_times(a.proc.pid), cpu_times(b.proc.pid)]
    keys = [f"b{i}" for i in range(BURST_MESSAGES)]
    t0 = time.monotonic()
    for key in keys:
        await sender.emit("chat:message", {"roomId": ROOM, "content": key})
    deadline = t0 + 60
    while time.monotonic() < deadline and not all(keys[-1] in p.arrivals for p in probes_b):
        await asyncio.sleep(0.005)
    done = max(p.arrivals.get(keys[-1], deadline) for p in probes_b)
    elapsed = done - t0
    cpu_after = [cpu_times(a.proc.pid), cpu_times(b.proc.pid)]
    await asyncio.sleep(1)
    delivered = sum(s.count for s in socks) + await passive_count(passive) - before
    print(f"burst: {BURST_MESSAGES} messages back to back, last one on every probe of B after {elapsed * 1000:.0f} ms: "
          f"{BURST_MESSAGES / elapsed:.0f} broadcasts/s through Redis, "
          f"{delivered / elapsed:.0f} socket deliveries/s ({delivered}/{BURST_MESSAGES * SOCKETS} counted by the clients)")
    per_node = BURST_MESSAGES * SOCKETS / 2
    for name, (u0, s0), (u1, s1) in zip(("A", "B"), cpu_before, cpu_after):
        print(f"  node {name} CPU per delivered frame during the burst: {(u1 - u0) / per_node * 1e6:.1f} µs user + "
              f"{(s1 - s0) / per_node * 1e6:.1f} µs system ({per_node:.0f} frames)")


def main():
    # SIGTERM (a `timeout`, Ctrl-C from make) still runs the `finally` below: nothing is left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    secret = secrets.token_hex(24)
    redis = RedisServer().start()
    env = {**redis.env(), "MSAB_JWT_SECRET": secret, "RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
           "MSAB_ROOM_EVENTS_PER_MINUTE": "1000000", "MSAB_MAX_SESSIONS_PER_IP": "0", "LOG_LEVEL": "warning",
           # The passive listeners never answer pings: no heartbeat within the run.
           "MSAB_PING_INTERVAL_MS": "600000", "MSAB_PING_TIMEOUT_MS": "600000"}
    a = MsabServer(env=env).start()
    b = MsabServer(env=env).start()
    try:
        asyncio.run(run(a, b, secret))
    finally:
        a.close()
        b.close()
        redis.close()


if __name__ == "__main__":
    main()
