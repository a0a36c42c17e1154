"""Issue 10 (points 1 and 2): hostile Socket.IO packets against a live msab.

- Packets that used to trap the whole process (a numeric event name no Int holds, ack ids past
  2^53): the server survives, a bystander keeps being served, and the attacker gets what Node's
  socket.io-parser gives it (a number is a valid event name; an out-of-range ack id is an invalid
  packet, so the connection closes).
- One unauthenticated CONNECT of ~880 kB holding 80,000 keys costs < 50 ms of server CPU
  (utime + stime from /proc/PID/stat; the JSON duplicate-key check used to be quadratic: 17-25 s).
- A client that floods events faster than its handlers run is disconnected (DISCONNECT, then the
  session closes), counted in /metrics, and the bystander is unaffected.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
import requests
import websocket

from msabtest.metrics import metric
from msabtest.server import cpu_seconds

def cpu_ns_precise(pid: int) -> int:
    """Sum of the threads' on-CPU time from /proc/PID/task/*/schedstat (ns; for the report)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


class Raw:
    """A raw Engine.IO v4 WebSocket client that speaks Socket.IO packets by hand."""

    def __init__(self, server: Any, token: str | None = None) -> None:
        self.ws = websocket.create_connection(server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=5,
                                             suppress_origin=True)
        opened = self.ws.recv()
        assert opened.startswith("0"), opened
        if token is not None:
            self.send("0" + json.dumps({"token": token}))
            reply = self.recv()
            assert reply.startswith("40"), reply

    def send(self, packet: str) -> None:
        self.ws.send("4" + packet)

    def recv(self, timeout: float = 5) -> str:
        """The next frame that is not a ping (pings are answered)."""
        self.ws.settimeout(timeout)
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
                continue
            return frame

    def echo(self, ack_id: int, payload: Any) -> Any:
        self.send(f"2{ack_id}" + json.dumps(["msab:echo", payload]))
        while True:
            frame = self.recv()
            if frame.startswith(f"43{ack_id}["):
                return json.loads(frame[len(f"43{ack_id}"):])

    def closed_within(self, seconds: float) -> bool:
        """True when the server closes the connection within `seconds` (frames before are skipped)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                frame = self.recv(timeout=max(0.05, deadline - time.time()))
            except websocket.WebSocketTimeoutException:
                return False
            except Exception:
                return True
            if frame in ("", None):
                return True
        return False

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


# Packets that trapped the process (Int(_:) of the event name), with the event name Node gives them.
NUMERIC_EVENT_NAMES = ["1e300", "-1e19", "1.5e308", "9223372036854775808", "-0.5", "1e400", "3"]
# Ack ids Node cannot hold exactly: an invalid packet, the connection closes.
HUGE_ACK_IDS = ['299999999999999999999["x"]', '29007199254740992["x"]', '399999999999999999999[]',
                "2" + "9" * 5000 + '["x"]']


def test_numeric_event_names_neither_trap_nor_disconnect(msab: Any) -> None:
    bystander = Raw(msab, msab.token(1, "Bystander"))
    attacker = Raw(msab, msab.token(2, "Attacker"))
    try:
        for n, name in enumerate(NUMERIC_EVENT_NAMES):
            attacker.send(f"2[{name}]")
            attacker.send(f"2{100 + n}[{name},\"with an ack\"]")  # no handler: no ack, as in Node
            # A number is a valid event name: the attacker's session goes on.
            assert attacker.echo(n, {"after": name}) == [{"after": name}], name
            assert msab.running, f"msab died on 42[{name}]:\n{msab.log()[-3000:]}"
            assert bystander.echo(1000 + n, [name]) == [[name]]
    finally:
        attacker.close()
        bystander.close()


def test_ack_ids_past_two_to_the_53_close_only_that_connection(msab: Any) -> None:
    bystander = Raw(msab, msab.token(1, "Bystander"))
    try:
        before = metric(msab, "msab_socketio_closed_total", 'reason="parse_error"')
        for n, packet in enumerate(HUGE_ACK_IDS):
            attacker = Raw(msab, msab.token(2, "Attacker"))
            try:
                attacker.send(packet)
                assert attacker.closed_within(5), packet[:40]
            finally:
                attacker.close()
            assert msab.running, f"msab died on 4{packet[:40]}:\n{msab.log()[-3000:]}"
            assert bystander.echo(n, {"still": "here"}) == [{"still": "here"}]
        # The largest safe id is fine and echoed exactly.
        ok = Raw(msab, msab.token(3, "Edge"))
        try:
            ok.send('29007199254740991["msab:echo","edge"]')
            assert ok.recv() == '439007199254740991["edge"]'
        finally:
            ok.close()
        assert metric(msab, "msab_socketio_closed_total", 'reason="parse_error"') >= before + len(HUGE_ACK_IDS)
    finally:
        bystander.close()


def _websocket_cost_ms(server: Any, packet: str) -> tuple[float, float]:
    """Server CPU (utime+stime ms, schedstat ms) from sending `packet` on a fresh unauthenticated
    WebSocket until the server closes it."""
    pid = server.proc.pid
    attacker = Raw(server)
    try:
        cpu0, ns0 = cpu_seconds(pid), cpu_ns_precise(pid)
        attacker.send(packet)
        assert attacker.closed_within(10), f"{packet[:20]}… was not refused"
        return (cpu_seconds(pid) - cpu0) * 1000, (cpu_ns_precise(pid) - ns0) / 1e6
    finally:
        attacker.close()


def _polling_cost_ms(server: Any, packet: str) -> tuple[float, float]:
    """The same over long-polling: one POST, then wait until the session is gone."""
    pid = server.proc.pid
    r = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    sid = json.loads(r.text[1:])["sid"]
    url = f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    cpu0, ns0 = cpu_seconds(pid), cpu_ns_precise(pid)
    assert requests.post(url, data="4" + packet, timeout=10).status_code == 200
    deadline = time.time() + 10
    while requests.get(url, timeout=5).status_code != 400:
        assert time.time() < deadline, f"{packet[:20]}… over polling was not refused"
        time.sleep(0.01)
    return (cpu_seconds(pid) - cpu0) * 1000, (cpu_ns_precise(pid) - ns0) / 1e6


def test_an_80000_key_connect_costs_under_50_ms_of_server_cpu(msab: Any) -> None:
    """The Socket.IO layer refuses the 80,000-key CONNECT at its 1,001st key (JSONParseLimits.wire)
    after a linear scan. Over polling the whole request stays under 50 ms of server CPU. Over
    WebSocket a debug build spends ~55 ms in swift-nio's per-byte frame unmasking alone (any
    880 kB frame costs it, whatever it holds), so there the bound applies to what the frame costs
    beyond a same-size frame the server refuses at its first byte; a release build meets 50 ms
    outright."""
    bystander = Raw(msab, msab.token(1, "Bystander"))
    try:
        packet = "0{" + ",".join(f'"k{i:05d}":1' for i in range(80_000)) + "}"
        assert len(packet) > 860_000
        same_size_garbage = "9" + "x" * (len(packet) - 1)
        polling = min(_polling_cost_ms(msab, packet) for _ in range(3))
        websocket_cost = min(_websocket_cost_ms(msab, packet) for _ in range(3))
        transport_only = min(_websocket_cost_ms(msab, same_size_garbage) for _ in range(3))
        print(f"\n80,000-key CONNECT ({len(packet)} bytes), best of 3, utime+stime / schedstat ms: "
              f"polling {polling[0]:.0f} / {polling[1]:.1f}; websocket {websocket_cost[0]:.0f} / {websocket_cost[1]:.1f}; "
              f"same-size frame refused at byte 1 over websocket {transport_only[0]:.0f} / {transport_only[1]:.1f}")
        assert polling[0] < 50, f"polling: {polling[0]:.0f} ms of server CPU"
        if "/release/" in msab.binary:
            assert websocket_cost[0] < 50, f"websocket: {websocket_cost[0]:.0f} ms of server CPU"
        else:
            assert websocket_cost[1] - transport_only[1] < 50, (websocket_cost, transport_only)
        assert bystander.echo(1, "fine") == ["fine"]
        assert msab.running
    finally:
        bystander.close()


def test_a_flooding_client_is_disconnected_and_counted_bystanders_unaffected(msab_factory: Any) -> None:
    server = msab_factory(env={"MSAB_SOCKET_QUEUE_EVENTS": "4"})
    bystander = Raw(server, server.token(1, "Bystander"))
    try:
        before = metric(server, "msab_socketio_closed_total", 'reason="inbound_overflow"')
        # Over long-polling, one POST carries the whole burst: the engine hands 3,000 events to the
        # Socket.IO layer back to back, far faster than the echo handler answers them one by one.
        r = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
        sid = json.loads(r.text[1:])["sid"]
        url = f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        assert requests.post(url, data="40" + json.dumps({"token": server.token(2, "Flooder")}), timeout=5).status_code == 200
        assert requests.get(url, timeout=5).text.startswith("40")
        burst = "\x1e".join(f'42{i}["msab:echo",{{"n":{i},"pad":"{"x" * 200}"}}]' for i in range(3_000))
        assert requests.post(url, data=burst, timeout=10).status_code == 200
        # The flooder's session closes.
        seen = ""
        deadline = time.time() + 10
        gone = False
        while time.time() < deadline:
            r = requests.get(url, timeout=10)
            if r.status_code == 400:
                gone = True
                break
            seen += r.text + "\x1e"
        assert gone, "the flooder's session is still open"
        # (The DISCONNECT packet goes out just before the close; over polling it is only seen when a
        # GET was parked at that moment, so it is checked in SocketIOTests, not here.)
        packets = [p for p in seen.split("\x1e") if p]
        acks = [p for p in packets if p.startswith("43")]
        assert len(acks) < 3_000, "every event was handled: no overflow happened"
        assert metric(server, "msab_socketio_closed_total", 'reason="inbound_overflow"') == before + 1
        assert "outran its handlers" in server.log()
        # The bystander never noticed.
        assert bystander.echo(1, {"ok": True}) == [{"ok": True}]
        assert server.running
    finally:
        bystander.close()
