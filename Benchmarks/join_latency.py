"""Issue 5 benchmark: how long a listener waits from `room:join` to the first decoded audio frame
(python-socketio + pymediasoup/aiortc against a real msab on 127.0.0.1).

1. 50 listeners join one after another; each measures join → first decoded frame of the speaker.
2. 200 listeners join at once (spread over worker processes, as 200 real phones would be separate);
   each measures the same.
Prints p50/p95/max for both. Run by `make bench` (msab from MSAB_BIN, release build).
"""
import asyncio
import json
import multiprocessing
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "python"))

from msabtest.client import MsabClient  # noqa: E402
from msabtest.server import MsabServer, cpu_seconds as process_cpu_seconds  # noqa: E402

ROOM = "bench"


async def one_listener(url, token, index):
    c = MsabClient(f"L{index}")
    try:
        await c.connect(url, token, transports=["websocket"])
        start = time.monotonic()
        await c.join(ROOM)
        await c.consume_all()
        consumers = await c.wait_consumers(1, timeout=60)
        await consumers[0].recorder.capture(0.02, timeout=60)
        return time.monotonic() - start
    finally:
        await c.close()


async def many(url, tokens, offset):
    results = await asyncio.gather(*(one_listener(url, t, offset + i) for i, t in enumerate(tokens)), return_exceptions=True)
    # Exceptions become text: they cross a process boundary (and some do not pickle).
    return [r if isinstance(r, float) else repr(r) for r in results]


def cpu_seconds(usage):
    return usage.ru_utime + usage.ru_stime


def worker(args):
    url, tokens, offset = args
    before = cpu_seconds(resource.getrusage(resource.RUSAGE_SELF))
    results = asyncio.run(many(url, tokens, offset))
    return results, cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - before


def summary(name, values):
    ok = sorted(v for v in values if isinstance(v, float))
    failed = [v for v in values if not isinstance(v, float)]
    if failed:
        print(f"{name}: {len(failed)} failed, e.g. {failed[:2]}")
    if not ok:
        return None
    p = lambda q: ok[min(len(ok) - 1, int(round(q * (len(ok) - 1))))]
    print(f"{name}: n={len(ok)} failed={len(failed)} p50={p(0.5) * 1000:.0f} ms p95={p(0.95) * 1000:.0f} ms max={ok[-1] * 1000:.0f} ms")
    return {"n": len(ok), "failed": len(failed), "p50_ms": p(0.5) * 1000, "p95_ms": p(0.95) * 1000}


async def speaker(url, token, ready, stop):
    s = MsabClient("speaker")
    await s.connect(url, token, transports=["websocket"])
    await s.join(ROOM)
    await s.call("seat:take", {"roomId": ROOM, "seatIndex": 0})  # the room hears seat holders
    await s.produce_tone(440, 0.5)
    ready.set()
    await stop.wait()
    await s.close()


def main():
    sequential = int(os.environ.get("JOIN_BENCH_SEQUENTIAL", "50"))
    concurrent = int(os.environ.get("JOIN_BENCH_CONCURRENT", "200"))
    procs = int(os.environ.get("JOIN_BENCH_PROCESSES", "4"))
    server = MsabServer.small(LOG_LEVEL="error").start()
    try:
        tokens = [server.token(10_000 + i, f"L{i}", ttl=3600) for i in range(sequential + concurrent)]

        async def run():
            ready, stop = asyncio.Event(), asyncio.Event()
            task = asyncio.create_task(speaker(server.url, server.token(9_999, "Speaker"), ready, stop))
            await asyncio.wait_for(ready.wait(), 30)
            seq = []
            for i in range(sequential):
                seq.append(await one_listener(server.url, tokens[i], i))
            loop = asyncio.get_running_loop()
            chunks = [(server.url, tokens[sequential + k::procs], sequential + k * 1000) for k in range(procs)]
            with multiprocessing.Pool(procs) as pool:
                server_before = process_cpu_seconds(server.proc.pid)
                wall_before = time.monotonic()
                parts = await loop.run_in_executor(None, lambda: pool.map(worker, chunks))
                wall = time.monotonic() - wall_before
                server_cpu = process_cpu_seconds(server.proc.pid) - server_before
            conc = [x for results, _ in parts for x in results]
            client_cpu = sum(cpu for _, cpu in parts)
            stop.set()
            await task
            return seq, conc, (wall, server_cpu, client_cpu)

        seq, conc, (wall, server_cpu, client_cpu) = asyncio.run(run())
        result = {"sequential": summary(f"join → first audio, {sequential} joins one at a time", seq),
                  "concurrent": summary(f"join → first audio, {concurrent} listeners joining at once", conc)}
        # Where the concurrent phase's time goes: on a 2-core machine the 200 Python WebRTC
        # clients and msab share the CPU, so their CPU per join bounds the latency.
        cores = os.cpu_count() or 1
        print(f"concurrent phase: {wall:.2f} s wall on {cores} cores; msab CPU {server_cpu:.2f} s "
              f"({server_cpu / max(concurrent, 1) * 1000:.1f} ms per join); clients' CPU {client_cpu:.2f} s "
              f"({client_cpu / max(concurrent, 1) * 1000:.1f} ms per join); the CPU alone needs "
              f"≥ {(server_cpu + client_cpu) / cores:.2f} s of wall time for the last join on {cores} cores")
        result["concurrent_phase"] = {"wall_s": wall, "server_cpu_s": server_cpu, "client_cpu_s": client_cpu, "cores": cores}
        print(json.dumps(result))
    finally:
        server.close()


if __name__ == "__main__":
    main()
