"""Firefox ESR beside Chromium on the demo page (issue 15 item 5).

A headless Chromium page (DevTools) and a headless Firefox page (WebDriver BiDi, msabtest/firefox.py)
join one room through the page msab serves, take seats, turn their fake microphones on and hear
each other (inbound audio energy from getStats over ``window.msabPeerConnections``), chat both
ways, and a screenshot of the Firefox page with both users seated is saved
(``firefox-two-seated-TOPOLOGY.png`` in the test's temporary directory; its path is printed) and
checked. Twice: with ``make run``'s defaults ("defaults": page on 127.0.0.1, media on 0.0.0.0 with
a host candidate per local address, which Firefox pairs by its non-loopback one), and ("veth")
with Firefox on a host of its own, as follows.

Firefox never pairs a loopback ICE candidate with its own non-loopback addresses, so the test
gives it a host of its own: a network namespace joined to this one by a veth pair on a private
10.231.N.0/30 (msabtest/netns.py). msab binds and announces the near end (10.231.N.1) and
Chromium runs beside it; Firefox runs in the namespace (10.231.N.2) and reaches msab over the
pair. Nothing leaves the machine. Both browsers treat ``http://10.231.N.1:PORT`` as a secure
context (Firefox: ``dom.securecontext.allowlist``; Chromium:
``--unsafely-treat-insecure-origin-as-secure``), as they do ``http://127.0.0.1``, so
getUserMedia works. Without the privilege to create namespaces the test is skipped, saying so.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import uuid
from typing import Any, Callable

import pytest

from msabtest.chromium import Chromium
from msabtest.firefox import FIREFOX, Firefox
from msabtest.netns import NetnsUnavailable, VethHost
from test_demo_page import STATS_JS, click, decode_png, seat_holder, wait_until

pytestmark = [pytest.mark.msab, pytest.mark.browser, pytest.mark.media]


def firefox_binary() -> str:
    if shutil.which(FIREFOX) or os.access(FIREFOX, os.X_OK):
        return FIREFOX
    # `make test` installs firefox-esr (APT_PACKAGES): there a missing browser is a failure.
    if os.environ.get("MSAB_BIN"):
        pytest.fail(f"Firefox not found: {FIREFOX} (the Makefile installs firefox-esr)")
    pytest.skip(f"Firefox not installed: {FIREFOX} (apt-get install firefox-esr, or set MSAB_FIREFOX)")


def local_non_loopback_ipv4() -> list[str]:
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, timeout=10).stdout
    return [w.split("/")[0] for line in out.splitlines() for w in line.split()[3:4]
            if not w.startswith("127.")]


# "veth": msab and Chromium here, Firefox on a host of its own (a namespace over a veth pair).
# "defaults": everything on this host as after `make run`: the page at http://127.0.0.1:PORT, media
# on 0.0.0.0 with a host candidate per local address (Firefox pairs the non-loopback one).
@pytest.mark.timeout(180)
@pytest.mark.parametrize("topology", ["veth", "defaults"])
def test_chromium_and_firefox_pages_take_seats_hear_each_other_and_chat(msab_factory: Callable[..., Any],
                                                                        tmp_path: Any, topology: str) -> None:
    binary = firefox_binary()
    with contextlib.ExitStack() as stack:
        if topology == "veth":
            try:
                host = stack.enter_context(VethHost())
            except NetnsUnavailable as e:
                pytest.skip(f"cannot create a network namespace for Firefox's own host: {e}")
            server = msab_factory(host=host.near)
            stack.callback(server.stop)  # before the veth pair goes (callbacks run last-in first-out)
            origin = f"http://{host.near}:{server.port}"
            chromium = Chromium(extra_flags=[f"--unsafely-treat-insecure-origin-as-secure={origin}"])
            firefox = Firefox(prefs={"dom.securecontext.allowlist": host.near}, netns=host.name, binary=binary)
            expected_pair: Callable[[str], bool] = lambda a: a == host.near
        else:
            if not local_non_loopback_ipv4():
                pytest.skip("this machine has no non-loopback IPv4 address for Firefox to pair")
            server = msab_factory(env={"MEDIASOUP_LISTEN_IP": "0.0.0.0", "MEDIASOUP_ANNOUNCED_IP": ""})
            origin = server.url
            chromium = Chromium()
            firefox = Firefox(binary=binary)
            expected_pair = lambda a: a in local_non_loopback_ipv4()

        stack.callback(chromium.stop)
        chromium.start()
        stack.callback(firefox.stop)
        firefox.start()

        room = f"fx-{uuid.uuid4().hex[:8]}"
        chrome_page = chromium.page()
        chrome_page.send("Emulation.setDeviceMetricsOverride",
                         {"width": 900, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        fx_page = firefox.page()
        fx_page.set_viewport(900, 1000)
        chrome_page.navigate(f"{origin}/?room={room}&token={server.token(851, 'Chromy')}")
        fx_page.navigate(f"{origin}/?room={room}&token={server.token(852, 'Foxy')}")
        pages = [(chrome_page, "Chromium"), (fx_page, "Firefox")]
        for page, who in pages:
            wait_until(page, "window.msabDemo && window.msabDemo.state.joined", 20, f"{who} joined the room")

        click(chrome_page, "seat-0")
        click(fx_page, "seat-1")
        for page, who in pages:
            wait_until(page, f"{seat_holder(0)} === '851' && {seat_holder(1)} === '852'", 15,
                       f"both seats shown on {who}")

        for page, _ in pages:
            click(page, "mic")
        for page, who in pages:
            wait_until(page, "document.querySelector('[data-testid=mic]').dataset.state === 'live'", 20,
                       f"{who}'s microphone live")

        # Each hears the other over msab's non-loopback candidate (the near end of the veth pair).
        for page, who in pages:
            stats = wait_until(page, f"({STATS_JS}).then(s => s.inPackets > 50 && s.inEnergy > 0 ? s : null)", 40,
                               f"{who} hears the other")
            print(f"{who}: {json.dumps(stats)}")
            assert stats["outPackets"] > 0 and all(s == "connected" for s in stats["states"]), stats
            assert stats["pairs"] and all(expected_pair(a) for a in stats["pairs"]), stats

        for page, text in [(chrome_page, "hello from Chromium"), (fx_page, "hi from Firefox")]:
            page.evaluate(f"document.querySelector('[data-testid=chat-input]').value = {json.dumps(text)}")
            click(page, "chat-send")
        for page, who in pages:
            wait_until(page, "(t => t.includes('hello from Chromium') && t.includes('hi from Firefox'))"
                             "(document.querySelector('[data-testid=chat-log]').innerText)", 10,
                       f"chat both ways on {who}")

        # The Firefox page with both users seated: saved, not blank, both avatars drawn, names shown.
        png = fx_page.screenshot()
        path = os.path.join(str(tmp_path), f"firefox-two-seated-{topology}.png")
        with open(path, "wb") as f:
            f.write(png)
        print(f"screenshot: {path}")
        image = decode_png(png)
        assert len({tuple(p) for p in image.reshape(-1, 3)[::7]}) > 50, "screenshot looks blank"
        background = tuple(int(v) for v in image[2, 2])
        for index, name in [(0, "Chromy"), (1, "Foxy")]:
            rect = fx_page.evaluate(f"""(() => {{ const b = document.querySelector('[data-testid="seat-{index}"]');
                const a = b.querySelector('.avatar').getBoundingClientRect();
                return {{name: b.querySelector('.name').textContent, x: Math.round(a.left + a.width / 2),
                         y: Math.round(a.top + a.height / 2)}}; }})()""")
            assert rect["name"].startswith(name), rect
            centre = tuple(int(v) for v in image[rect["y"], rect["x"]])
            assert centre != background and max(abs(a - b) for a, b in zip(centre, background)) > 30, \
                (index, centre, background)
        assert os.path.getsize(path) > 10_000
