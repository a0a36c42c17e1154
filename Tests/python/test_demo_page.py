"""The demo page msab serves at ``/`` (issue 15): two headless Chromium browsers, each with a fake
microphone, open the URL ``make run`` prints (``/?room=…&token=…``) for two users, take seats,
turn their microphones on and hear each other; chat goes both ways; a screenshot with both users
seated is saved and checked.

Everything the page does goes through ``/msab-client.js`` (msab's Socket.IO v4 client and
WebRTC handler) — the test only clicks the page's ``data-testid`` hooks and reads
``window.msabPeerConnections``' getStats, as any automation would. The screenshot is kept in the
test's temporary directory (``demo-two-seated.png``; its path is printed).

Also here: the routes themselves (content types, the security headers), the default
``CORS_ORIGINS`` not shutting out msab's own page, and the host candidates of issue 15 item 6.
"""
from __future__ import annotations

import base64
import json
import os
import time
import urllib.request
import uuid
from typing import Any, Callable

import pytest

from msabtest.chromium import Chromium, Page
from msabtest.sioclient import Client, refusal

pytestmark = [pytest.mark.msab]

# Summed over the page's RTCPeerConnections: what it hears (inbound) and sends (outbound).
STATS_JS = r"""
(async () => {
  const out = {pcs: window.msabPeerConnections.length, inPackets: 0, inEnergy: 0, inLevel: 0, outPackets: 0,
               states: [], pairs: []};
  for (const pc of window.msabPeerConnections) {
    out.states.push(pc.connectionState);
    const report = await pc.getStats();
    for (const s of report.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inPackets += s.packetsReceived || 0; out.inEnergy += s.totalAudioEnergy || 0;
        out.inLevel = Math.max(out.inLevel, s.audioLevel || 0);
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') out.outPackets += s.packetsSent || 0;
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
        const remote = report.get(s.remoteCandidateId);
        out.pairs.push(remote ? remote.address || remote.ip : null);
      }
    }
  }
  return out;
})()
"""


def wait_until(page: Page, expression: str, timeout: float, what: str) -> Any:
    """Poll a JavaScript expression until it is truthy; fail with the page's state otherwise."""
    deadline = time.monotonic() + timeout
    value: Any = None
    while time.monotonic() < deadline:
        value = page.evaluate(expression, timeout=10)
        if value:
            return value
        time.sleep(0.2)
    errors = page.evaluate("document.getElementById('errors').innerText", timeout=5)
    pytest.fail(f"{what}: not within {timeout}s (last {value!r}); page errors: {errors!r}; console: {page.console[-20:]}")


def click(page: Page, testid: str) -> None:
    page.evaluate(f"document.querySelector('[data-testid=\"{testid}\"]').click()")


def seat_holder(index: int) -> str:
    return f"document.querySelector('[data-testid=\"seat-{index}\"]').dataset.userId"


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()


def decode_png(data: bytes) -> Any:
    """PNG bytes → an RGB numpy array (PyAV decodes images as one-frame videos)."""
    import io

    import av
    with av.open(io.BytesIO(data), format="png_pipe") as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


@pytest.fixture
def browsers() -> Any:
    opened: list[Chromium] = []

    def start(extra_flags: list[str] | None = None) -> Page:
        c = Chromium(extra_flags=extra_flags).start()
        opened.append(c)
        page = c.page()
        page.send("Emulation.setDeviceMetricsOverride", {"width": 900, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        return page

    try:
        yield start
    finally:
        for c in opened:
            c.stop()


def test_demo_routes_serve_page_and_client(msab_factory: Callable[..., Any]) -> None:
    server = msab_factory()
    status, headers, body = http_get(server.url + "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    # The seats (seat-0 … seat-14) are built by demo.js; the other hooks are in the markup.
    for hook in ["mic", "chat-input", "chat-send", "chat-log"]:
        assert f'data-testid="{hook}"' in page, hook
    assert '<script type="module" src="/demo.js">' in page
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, body = http_get(server.url + "/msab-client.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    client = body.decode()
    for name in ["export class Device", "export class SendTransport", "export class RecvTransport",
                 "export class Producer", "export class Consumer", "export function io"]:
        assert name in client, name
    for path, kind in [("/demo.js", "text/javascript"), ("/demo.css", "text/css")]:
        status, headers, _ = http_get(server.url + path)
        assert status == 200 and headers["content-type"].startswith(kind), path


def test_own_origin_allowed_whatever_cors_origins_says(msab_factory: Callable[..., Any]) -> None:
    server = msab_factory(env={"CORS_ORIGINS": "https://elsewhere.example"})
    token = server.token(811, "Origin")
    own = f"http://127.0.0.1:{server.port}"
    # Long-polling handshake from the page's own origin: CORS headers reflect it.
    _, headers, _ = http_get(server.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": own})
    assert headers.get("access-control-allow-origin") == own
    _, headers, _ = http_get(server.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers
    # Socket.IO connect: own origin admitted, another refused.
    c = Client(server, token, headers={"Origin": own})
    try:
        assert c.call("msab:echo", {"ok": 1}) == {"ok": 1}
    finally:
        c.close()
    assert refusal(server, auth={"token": token}, headers={"Origin": "https://evil.example"}) == "Origin not allowed"
    # Same host, another port: another origin.
    assert refusal(server, auth={"token": token}, headers={"Origin": f"http://127.0.0.1:{server.port + 1}"}) == "Origin not allowed"


# "loopback": the harness's media address (127.0.0.1 announced); "defaults": what `make run` does
# (media on 0.0.0.0, nothing announced: a host candidate per local address, issue 15 item 6);
# "dualstack": media on "::" (IPv4 and IPv6 candidates, IPv4 carried by the dual-stack socket).
MEDIA_SETUPS = {
    "loopback": {},
    "defaults": {"MEDIASOUP_LISTEN_IP": "0.0.0.0", "MEDIASOUP_ANNOUNCED_IP": ""},
    "dualstack": {"MEDIASOUP_LISTEN_IP": "::", "MEDIASOUP_ANNOUNCED_IP": ""},
}


@pytest.mark.browser
@pytest.mark.media
@pytest.mark.timeout(150)
@pytest.mark.parametrize("media", sorted(MEDIA_SETUPS))
def test_two_chromium_pages_take_seats_hear_each_other_and_chat(msab_factory: Callable[..., Any], browsers: Any,
                                                                tmp_path: Any, media: str) -> None:
    server = msab_factory(env=MEDIA_SETUPS[media])
    room = f"demo-{uuid.uuid4().hex[:8]}"
    users = [(821, "Alice"), (822, "Bob")]
    pages = []
    for user_id, name in users:
        page = browsers()
        page.navigate(f"{server.url}/?room={room}&token={server.token(user_id, name)}")
        pages.append(page)
    alice, bob = pages
    for page in pages:
        wait_until(page, "window.msabDemo && window.msabDemo.state.joined", 20, "joined the room")

    # Both take a seat by clicking it; each page sees the other's seat filled (seat:updated).
    click(alice, "seat-0")
    click(bob, "seat-1")
    for page in pages:
        wait_until(page, f"{seat_holder(0)} === '821' && {seat_holder(1)} === '822'", 15, "both seats shown")

    # Microphones on: produce (and unmuted) on both sides.
    for page in pages:
        click(page, "mic")
    for page in pages:
        wait_until(page, "document.querySelector('[data-testid=mic]').dataset.state === 'live'", 20, "microphone live")

    # Each hears the other: inbound audio with energy on the page's own peer connections.
    for page, who in [(alice, "Alice"), (bob, "Bob")]:
        stats = wait_until(page, f"({STATS_JS}).then(s => s.inPackets > 50 && s.inEnergy > 0 ? s : null)", 30,
                           f"{who} hears the other")
        print(f"{who}: {json.dumps(stats)}")
        assert stats["outPackets"] > 0 and all(s == "connected" for s in stats["states"]), stats

    # Chat both ways, shown in both chat logs.
    for page, text in [(alice, "hello from Alice"), (bob, "hi from Bob")]:
        page.evaluate(f"document.querySelector('[data-testid=chat-input]').value = {json.dumps(text)}")
        click(page, "chat-send")
    for page in pages:
        wait_until(page, "(t => t.includes('hello from Alice') && t.includes('hi from Bob'))"
                         "(document.querySelector('[data-testid=chat-log]').innerText)", 10, "chat both ways")

    # Speaking rings follow speaker:active (the fake microphones beep all the time).
    # (a ring lasts while the speaker is loud, so the page counts the renders that drew one.)
    # 30 s: one CI run under the full suite's load missed 15 s with audio flowing both ways; the print
    # says whether speaker:active had arrived at all (then the seat state kept the ring off).
    try:
        wait_until(alice, "window.msabDemo.state.ringsDrawn > 0", 30, "a speaking ring")
    except pytest.fail.Exception:
        print("speaker:active events seen:", alice.evaluate("window.msabDemo.state.speakerEvents"),
              "seats:", alice.evaluate("JSON.stringify(window.msabDemo.state.seats)"))
        raise

    # Bob's connection drops (the transport dies, as on a network change): the page reconnects
    # within the seat retention window, keeps seat 2, produces again, and Alice hears him again.
    before = alice.evaluate(STATS_JS)
    bob.evaluate("window.msabDemo.socket._engine._onTransportClose('transport error')")
    wait_until(bob, "window.msabDemo.state.joined === false", 5, "Bob's page saw the drop")
    wait_until(bob, "window.msabDemo.state.joined && document.querySelector('[data-testid=mic]').dataset.state === 'live'",
               20, "Bob rejoined with his microphone live")
    for page in pages:
        wait_until(page, f"{seat_holder(0)} === '821' && {seat_holder(1)} === '822'", 10, "seats kept after the reconnect")
    wait_until(alice, f"({STATS_JS}).then(s => s.inPackets > {before['inPackets']} + 50 ? s : null)", 30,
               "Alice hears Bob again after his reconnect")

    # A screenshot with two seated users: saved, and the seats are drawn (not a blank page).
    shot = alice.send("Page.captureScreenshot", {"format": "png"})
    png = base64.b64decode(shot["data"])
    path = os.path.join(str(tmp_path), "demo-two-seated.png")
    with open(path, "wb") as f:
        f.write(png)
    print(f"screenshot: {path}")
    image = decode_png(png)
    assert len({tuple(p) for p in image.reshape(-1, 3)[::7]}) > 50, "screenshot looks blank"
    background = tuple(int(v) for v in image[2, 2])
    for index, name in [(0, "Alice"), (1, "Bob")]:
        rect = alice.evaluate(f"""(() => {{ const b = document.querySelector('[data-testid="seat-{index}"]');
            const a = b.querySelector('.avatar').getBoundingClientRect();
            return {{name: b.querySelector('.name').textContent, x: Math.round(a.left + a.width / 2), y: Math.round(a.top + a.height / 2)}}; }})()""")
        assert rect["name"].startswith(name), rect
        centre = tuple(int(v) for v in image[rect["y"], rect["x"]])
        assert centre != background and max(abs(a - b) for a, b in zip(centre, background)) > 30, (index, centre, background)
    assert os.path.getsize(path) > 10_000


def test_host_candidates_for_every_local_address_on_wildcard(msab_factory: Callable[..., Any]) -> None:
    """Issue 15 item 6: listening on 0.0.0.0 without MEDIASOUP_ANNOUNCED_IP, a transport offers a
    UDP host candidate per usable local IPv4 address, non-loopback first and 127.0.0.1 last, all
    on the worker's port, priorities descending; on "::" routable IPv6 addresses follow the IPv4
    ones (::1 last); an announced IP still replaces them all."""
    server = msab_factory(env={"MEDIASOUP_LISTEN_IP": "0.0.0.0", "MEDIASOUP_ANNOUNCED_IP": ""})
    c = Client(server, server.token(831, "Cand"))
    try:
        c.call("room:join", {"roomId": "cands"})
        t = c.call("transport:create", {"type": "consumer", "roomId": "cands"})
    finally:
        c.close()
    # Item 7: each UDP candidate is followed (after all UDP ones) by a passive TCP candidate
    # for the same address and port, every TCP priority below every UDP one.
    udp_count = sum(1 for x in t["iceCandidates"] if x["protocol"] == "udp")
    candidates, tcp = t["iceCandidates"][:udp_count], t["iceCandidates"][udp_count:]
    addresses = [x["address"] for x in candidates]
    assert addresses[-1] == "127.0.0.1", addresses
    assert len({x["port"] for x in candidates}) == 1 and all(x["protocol"] == "udp" for x in candidates)
    priorities = [x["priority"] for x in candidates]
    assert priorities == sorted(priorities, reverse=True) and len(set(priorities)) == len(priorities)
    assert len({x["foundation"] for x in t["iceCandidates"]}) == len(t["iceCandidates"])
    assert [x["address"] for x in tcp] == addresses, tcp
    assert all(x["protocol"] == "tcp" and x["tcpType"] == "passive" and x["port"] == candidates[0]["port"] for x in tcp), tcp
    assert max(x["priority"] for x in tcp) < min(priorities), t["iceCandidates"]
    for address in addresses[:-1]:
        assert not address.startswith("127.") and ":" not in address, addresses  # IPv4 only on 0.0.0.0
    # Listening on "::" (dual-stack): the same IPv4 addresses first, then routable IPv6 ones, loopback last.
    dual = msab_factory(env={"MEDIASOUP_LISTEN_IP": "::", "MEDIASOUP_ANNOUNCED_IP": ""})
    c = Client(dual, dual.token(833, "Dual"))
    try:
        c.call("room:join", {"roomId": "cands"})
        t = c.call("transport:create", {"type": "consumer", "roomId": "cands"})
    finally:
        c.close()
    dual_addresses = [x["address"] for x in t["iceCandidates"] if x["protocol"] == "udp"]
    assert dual_addresses[:len(addresses) - 1] == addresses[:-1], (dual_addresses, addresses)
    v6 = [a for a in dual_addresses if ":" in a and a != "::1"]
    assert all(not a.lower().startswith("fe80") for a in v6), dual_addresses
    loopback = [a for a in dual_addresses if a in ("127.0.0.1", "::1")]
    assert dual_addresses[-len(loopback):] == loopback and loopback[0] == "127.0.0.1", dual_addresses
    print(f"0.0.0.0: {addresses}; '::': {dual_addresses}")
    announced = msab_factory(env={"MEDIASOUP_LISTEN_IP": "0.0.0.0", "MEDIASOUP_ANNOUNCED_IP": "203.0.113.9"})
    c = Client(announced, announced.token(832, "Ann"))
    try:
        c.call("room:join", {"roomId": "cands"})
        t = c.call("transport:create", {"type": "consumer", "roomId": "cands"})
    finally:
        c.close()
    assert [(x["address"], x["protocol"]) for x in t["iceCandidates"]] == [("203.0.113.9", "udp"), ("203.0.113.9", "tcp")]


def action(page: Page, name: str) -> None:
    """Click an action button of the open seat dialog."""
    page.evaluate(f"document.querySelector('#seat-dialog-actions [data-action=\"{name}\"]').click()")


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_owner_controls_invite_dialog_gift_effect_and_phone_width(msab_factory: Callable[..., Any], browsers: Any,
                                                                  tmp_path: Any) -> None:
    """The owner's page invites a guest (the guest's page shows the invite dialog and accepts), mutes,
    locks and removes through the seat dialogs; the guest sends the seated owner a gift that shows
    on the owner's page; the guest's page at phone width keeps three seats a row and no sideways scroll."""
    server = msab_factory()
    room = f"owner-{uuid.uuid4().hex[:8]}"
    owner = browsers()
    owner.navigate(f"{server.url}/?room={room}&token={server.token(841, 'Olga', roles={room: 'owner'})}")
    wait_until(owner, "window.msabDemo && window.msabDemo.state.joined", 20, "owner joined")
    guest = browsers()
    guest.send("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    guest.navigate(f"{server.url}/?room={room}&token={server.token(842, 'Gus')}")
    wait_until(guest, "window.msabDemo && window.msabDemo.state.joined", 20, "guest joined")

    # Invite from the participant list; the guest's page opens the invite dialog and accepts.
    invite_button = "document.querySelector('[data-testid=participants] li[data-user-id=\"842\"] button')"
    wait_until(owner, f"{invite_button} !== null", 10, "an Invite button for the guest")
    owner.evaluate(f"{invite_button}.click()")
    owner.evaluate("document.querySelector('[data-testid=invite-seat]').value = '3'")
    click(owner, "invite-send")
    wait_until(guest, "document.querySelector('[data-testid=invited-dialog]').open", 10, "the invite dialog")
    wait_until(owner, "document.querySelector('[data-testid=seat-3]').classList.contains('pending')", 5, "pending badge")
    click(guest, "invite-accept")
    for page in (owner, guest):
        wait_until(page, f"{seat_holder(3)} === '842'", 10, "the guest on seat 4")

    # Mute (badge on both pages, the guest is told), lock an empty seat, the guest cannot take it.
    click(owner, "seat-3")
    action(owner, "mute")
    for page in (owner, guest):
        wait_until(page, "document.querySelector('[data-testid=seat-3]').dataset.muted === 'true'"
                         " && document.querySelector('[data-testid=seat-3] [data-badge=muted]') !== null", 10, "mute badge")
    wait_until(guest, "document.querySelector('[data-testid=chat-log]').innerText.includes('moderator muted you')", 5, "told")
    click(owner, "seat-7")
    action(owner, "lock")
    wait_until(guest, "document.querySelector('[data-testid=seat-7]').dataset.locked === 'true'", 10, "lock badge")
    click(guest, "seat-7")
    wait_until(guest, "document.querySelector('[data-testid=errors]').innerText.includes('locked')", 5, "locked seat error shown")

    # The owner takes seat 1; the guest sends a gift there; the owner's page shows the effect.
    click(owner, "seat-0")
    action(owner, "take")
    wait_until(guest, f"{seat_holder(0)} === '841'", 10, "owner seated")
    click(guest, "seat-0")
    guest.evaluate("document.getElementById('gift-select').value = '3'; document.getElementById('gift-quantity').value = '2'")
    click(guest, "gift-send")
    wait_until(owner, "document.querySelector('#effects .effect') !== null"
                      " && document.querySelector('[data-testid=chat-log]').innerText.includes('Rocket ×2')", 10, "gift effect")

    # Phone width: three seats a row (seat 4 starts the second row under seat 1), nothing wider than the screen.
    layout = guest.evaluate("""(() => { const r = i => document.querySelector(`[data-testid="seat-${i}"]`).getBoundingClientRect();
        return {overflow: document.documentElement.scrollWidth - window.innerWidth, x0: r(0).left, x3: r(3).left, y0: r(0).top, y3: r(3).top}; })()""")
    assert layout["overflow"] <= 0 and layout["x0"] == layout["x3"] and layout["y3"] > layout["y0"], layout
    shot = guest.send("Page.captureScreenshot", {"format": "png"})
    path = os.path.join(str(tmp_path), "demo-phone.png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"phone screenshot: {path}")

    # Remove the guest from the seat.
    click(owner, "seat-3")
    action(owner, "remove")
    for page in (owner, guest):
        wait_until(page, f"!{seat_holder(3)}", 10, "seat 4 emptied")
    assert owner.evaluate("document.querySelector('[data-testid=errors]').innerText") == ""


LIBRARY_JS = r"""
(async (token) => {
  const m = await import('/msab-client.js');
  const out = {};
  for (const mode of ['websocket', 'polling', 'fallback']) {
    const saved = window.WebSocket;
    // "fallback": the WebSocket cannot even be created (a proxy that blocks it): long-polling takes over.
    if (mode === 'fallback') window.WebSocket = function () { throw new Error('blocked'); };
    const s = m.io(location.origin, {auth: {token}, reconnection: false,
                                     transports: mode === 'polling' ? ['polling'] : ['websocket', 'polling']});
    try {
      await new Promise((resolve, reject) => { s.on('connect', resolve); s.on('connect_error', reject); });
    } finally {
      window.WebSocket = saved;
    }
    const echo = await s.emitWithAck('msab:echo', {n: 1, text: 'é ✓'});
    const join = await m.ack(s, 'room:join', {roomId: 'library'});
    let seatError = null;
    try { await m.ack(s, 'seat:leave', {roomId: 'library'}); } catch (e) { seatError = e.message; }
    let mediaError = null;
    try { await m.ack(s, 'consumer:resume', {roomId: 'library', consumerId: '00000000-0000-4000-8000-000000000000'}); } catch (e) { mediaError = e.message; }
    // An event pushed by the server reaches on() listeners (chat:message comes back to the sender).
    const chat = new Promise(resolve => s.on('chat:message', resolve));
    s.emit('chat:message', {roomId: 'library', content: `over ${mode}`});
    const message = await chat;
    out[mode] = {transport: s.transportName, echo, caps: !!join.rtpCapabilities, seatError, mediaError, chat: message.content};
    s.disconnect();
  }
  const refused = m.io(location.origin, {auth: {token: 'not-a-token'}});
  out.refused = await new Promise(resolve => refused.on('connect_error', e => resolve(e.message)));
  await new Promise(r => setTimeout(r, 1500));
  out.refusedRetried = refused.connected;
  const device = new m.Device();
  let notLoaded = null;
  try { device.rtpCapabilities; } catch (e) { notLoaded = e.message; }
  out.device = {notLoaded, loaded: device.loaded};
  return out;
})
"""


@pytest.mark.browser
@pytest.mark.timeout(90)
def test_client_library_socket_io_over_websocket_polling_and_fallback(msab_factory: Callable[..., Any], browsers: Any) -> None:
    """msab-client.js on its own: the Socket.IO client connects over WebSocket, over long-polling,
    and falls back to long-polling when no WebSocket can be made; acks, both msab ack shapes
    through ack(), server-pushed events; a refused token is reported and not retried."""
    server = msab_factory()
    page = browsers()
    page.navigate(server.url + "/?room=library")  # no token: the page stays idle (login form)
    out = page.evaluate(f"({LIBRARY_JS})({json.dumps(server.token(851, 'Lib'))})", timeout=40)
    print(json.dumps(out))
    for mode, transport in [("websocket", "websocket"), ("polling", "polling"), ("fallback", "polling")]:
        r = out[mode]
        assert r["transport"] == transport, out
        assert r["echo"] == {"n": 1, "text": "é ✓"} and r["caps"], out
        assert r["seatError"] == "You are not seated" and r["mediaError"] == "Consumer not found", out
        assert r["chat"] == f"over {mode}", out
    assert out["refused"] == "Invalid credentials" and out["refusedRetried"] is False, out
    assert out["device"] == {"notLoaded": "Device not loaded", "loaded": False}, out


M_LINES_JS = "window.msabPeerConnections.map(pc => pc.remoteDescription ? (pc.remoteDescription.sdp.match(/^m=/gm) || []).length : 0)"


@pytest.mark.browser
@pytest.mark.media
@pytest.mark.timeout(150)
def test_listener_keeps_hearing_a_speaker_who_reconnects_with_a_recycled_m_section(msab_factory: Callable[..., Any],
                                                                                    browsers: Any) -> None:
    """Carol listens to Alice and Bob; Bob's connection drops and he comes back with a new
    producer: Carol's page closes the old consumer (its m-section is rejected) and the new consumer
    takes that m-section over, so her receive SDP keeps two m-lines, and she hears Bob again."""
    server = msab_factory()
    room = f"recycle-{uuid.uuid4().hex[:8]}"
    carol = browsers()
    carol.navigate(f"{server.url}/?room={room}&token={server.token(863, 'Carol')}")
    wait_until(carol, "window.msabDemo && window.msabDemo.state.joined", 20, "Carol joined")
    speakers = []
    for index, (user_id, name) in enumerate([(861, "Alice"), (862, "Bob")]):
        page = browsers()
        page.navigate(f"{server.url}/?room={room}&token={server.token(user_id, name)}")
        wait_until(page, "window.msabDemo && window.msabDemo.state.joined", 20, f"{name} joined")
        click(page, f"seat-{index}")
        wait_until(page, f"{seat_holder(index)} === '{user_id}'", 10, f"{name} seated")
        click(page, "mic")
        wait_until(page, "document.querySelector('[data-testid=mic]').dataset.state === 'live'", 20, f"{name} live")
        # One at a time, so Alice's consumer is Carol's first m-section and Bob's the second.
        wait_until(carol, f"[...window.msabDemo.state.consumers.values()].filter(c => c.consumer).length === {index + 1}",
                   15, f"Carol consumes {name}")
        speakers.append(page)
    bob = speakers[1]
    wait_until(carol, f"({STATS_JS}).then(s => s.inPackets > 100 ? s : null)", 30, "Carol hears both")
    assert carol.evaluate(M_LINES_JS) == [2], carol.evaluate(M_LINES_JS)

    bob.evaluate("window.msabDemo.socket._engine._onTransportClose('transport error')")
    wait_until(bob, "window.msabDemo.state.joined && document.querySelector('[data-testid=mic]').dataset.state === 'live'",
               20, "Bob back with his microphone")
    wait_until(carol, "[...window.msabDemo.state.consumers.values()].filter(c => c.consumer).length === 2"
                      " && window.msabPeerConnections[0].getTransceivers().filter(t => !t.stopped && t.currentDirection === 'recvonly').length === 2",
               15, "Carol consumes Bob's new producer")
    assert carol.evaluate(M_LINES_JS) == [2], carol.evaluate(M_LINES_JS)
    # Bob's new stream carries audio to Carol: its receiver's inbound-rtp grows.
    bob_packets = """(async () => { const e = [...window.msabDemo.state.consumers.values()].find(c => c.userId === 862);
        let n = 0; for (const s of (await e.consumer.getStats()).values()) if (s.type === 'inbound-rtp') n += s.packetsReceived || 0; return n; })()"""
    wait_until(carol, f"{bob_packets}.then(n => n > 50)", 30, "Carol hears Bob's new producer")


@pytest.mark.browser
@pytest.mark.media
@pytest.mark.timeout(120)
def test_blocked_autoplay_offers_a_play_button_that_a_click_unblocks(msab_factory: Callable[..., Any], browsers: Any) -> None:
    """With Chrome's default autoplay policy (a user gesture needed), a listener's page cannot
    start the speaker's audio by itself: it shows the "Play room audio" button, and a real click
    on it starts every stream."""
    server = msab_factory()
    room = f"autoplay-{uuid.uuid4().hex[:8]}"
    speaker = browsers()
    speaker.navigate(f"{server.url}/?room={room}&token={server.token(871, 'Sam')}")
    wait_until(speaker, "window.msabDemo && window.msabDemo.state.joined", 20, "speaker joined")
    click(speaker, "seat-0")
    click(speaker, "mic")
    wait_until(speaker, "document.querySelector('[data-testid=mic]').dataset.state === 'live'", 20, "speaker live")
    listener = browsers(["--autoplay-policy=user-gesture-required"])
    listener.navigate(f"{server.url}/?room={room}&token={server.token(872, 'Lee')}")
    wait_until(listener, "window.msabDemo && window.msabDemo.state.joined", 20, "listener joined")
    wait_until(listener, "!document.querySelector('[data-testid=enable-audio]').hidden", 15, "the play button")
    assert listener.evaluate("[...document.querySelectorAll('#audio-sink audio')].every(a => a.paused)")
    box = listener.evaluate("""(() => { const r = document.querySelector('[data-testid=enable-audio]').getBoundingClientRect();
        return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()""")
    for kind in ("mousePressed", "mouseReleased"):  # a trusted click: a user gesture
        listener.send("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1})
    wait_until(listener, "document.querySelector('[data-testid=enable-audio]').hidden"
                         " && [...document.querySelectorAll('#audio-sink audio')].every(a => !a.paused)", 10, "audio playing")
    wait_until(listener, f"({STATS_JS}).then(s => s.inEnergy > 0 ? s : null)", 20, "the listener hears the speaker")
