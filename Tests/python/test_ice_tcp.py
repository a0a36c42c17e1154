"""ICE over TCP (RFC 6544, framing RFC 4571): each media worker also listens on TCP on its UDP
port number and offers a passive TCP host candidate below the UDP one.

- Headless Chromium kept off UDP (the ``webrtc.ip_handling_policy`` profile preference
  ``disable_non_proxied_udp``, what ``--force-webrtc-ip-handling-policy`` used to set)
  sends its fake microphone through msab and hears it back, both transports over TCP.
- Hostile peers: a TCP connection that sends garbage (a length prefix over the bound) is closed
  and counted; one that never passes an ICE check is closed after the handshake timeout.
"""
from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from msabtest.chromium import Chromium
from msabtest.metrics import metric_total, wait_until
from msabtest.server import MsabServer
from msabtest.sioclient import Client
from test_chromium_media import PAGE, Call, assert_clean_log, ok, wait_sample


@pytest.fixture
def server() -> Any:
    with MsabServer.small() as s:
        yield s


def drops(server: MsabServer, reason: str) -> float:
    return metric_total(server, "msab_sfu_drops_total", reason=reason)


def wait_drops(server: MsabServer, reason: str, at_least: float, timeout: float) -> float:
    return wait_until(lambda: drops(server, reason), lambda value: value >= at_least, timeout, reason)


def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """True when the server closes (FIN or RST) within `timeout`."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_transport_offers_passive_tcp_candidate_below_udp(server: MsabServer) -> None:
    client = Client(server, server.token(801, "Tess"))
    try:
        room = "icetcp-candidates"
        ok(client.call("room:join", {"roomId": room}), "room:join")
        t = ok(client.call("transport:create", {"type": "consumer", "roomId": room}), "transport:create")
        by_protocol = {c["protocol"]: c for c in t["iceCandidates"]}
        assert set(by_protocol) == {"udp", "tcp"}, t["iceCandidates"]
        udp, tcp = by_protocol["udp"], by_protocol["tcp"]
        assert tcp["tcpType"] == "passive" and tcp["type"] == "host", tcp
        assert tcp["port"] == udp["port"] == server.rtc_port, t["iceCandidates"]
        assert tcp["address"] == udp["address"] == "127.0.0.1"
        assert tcp["priority"] < udp["priority"], t["iceCandidates"]
    finally:
        client.close()


def test_tcp_garbage_is_closed_and_counted(server: MsabServer) -> None:
    before = drops(server, "tcp_frame_invalid")
    with socket.create_connection(("127.0.0.1", server.rtc_port), timeout=5) as sock:
        # "GE" reads as an RFC 4571 length of 18,245: over the bound, framing is lost.
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert closed_by_peer(sock, 5), "msab kept a TCP connection that sent garbage open"
    assert wait_drops(server, "tcp_frame_invalid", before + 1, 5) >= before + 1
    # A zero length is garbage too.
    with socket.create_connection(("127.0.0.1", server.rtc_port), timeout=5) as sock:
        sock.sendall(b"\x00\x00\x01\x02")
        assert closed_by_peer(sock, 5), "msab kept a TCP connection with a zero-length frame open"
    assert wait_drops(server, "tcp_frame_invalid", before + 2, 5) >= before + 2
    # The server is still fine: a new connection is accepted and the signalling answers.
    client = Client(server, server.token(802, "Gus"))
    client.close()


def test_tcp_connection_without_ice_check_is_closed_after_timeout(server: MsabServer) -> None:
    before = drops(server, "tcp_handshake_timeout")
    with socket.create_connection(("127.0.0.1", server.rtc_port), timeout=5) as sock:
        # A well-framed packet that is no valid ICE check (a STUN-looking header with a bad body).
        sock.sendall(b"\x00\x04\x00\x01\x00\x00")
        started = time.monotonic()
        assert closed_by_peer(sock, 10), "a TCP connection that never passed an ICE check stayed open"
        assert time.monotonic() - started < 9
    assert wait_drops(server, "tcp_handshake_timeout", before + 1, 5) >= before + 1


@pytest.mark.browser
@pytest.mark.media
@pytest.mark.timeout(120)
def test_chromium_without_udp_hears_audio_over_tcp(server: MsabServer, static_site: Any) -> None:
    # Chromium 156 dropped the --force-webrtc-ip-handling-policy switch (it is ignored: every UDP
    # host candidate is still gathered); the profile preference behind it still applies: no UDP
    # candidates at all, only active TCP ones. The switch stays for builds that still have it.
    browser = Chromium(extra_flags=["--force-webrtc-ip-handling-policy=disable_non_proxied_udp"],
                       preferences={"webrtc": {"ip_handling_policy": "disable_non_proxied_udp"}}).start()
    try:
        site = static_site({"media.html": PAGE})
        page = browser.page()
        page.navigate(site.url + "/media.html")
        call = Call(server, page)
        try:
            call.setup(resume=True)
            met, last, history = wait_sample(
                page, lambda s: s["packetsReceived"] > 100 and s["totalAudioEnergy"] > 0, timeout=30)
            sent = page.evaluate("sendSample()")
            print(f"receiver: {last}\nsender: {sent}")
            assert met, (f"no audio back over TCP within 30 s: last {last}; sender {sent};"
                         f" history {history[-5:]}{call.evidence()}")
            # Both transports run over msab's TCP candidate.
            assert page.evaluate("selectedRemoteProtocol('send')") == "tcp", call.evidence()
            assert page.evaluate("selectedRemoteProtocol('recv')") == "tcp", call.evidence()
            assert last["totalAudioEnergy"] > 0 and last["dtlsState"] == "connected", last
            assert_clean_log(server)
        finally:
            call.close()
    finally:
        browser.stop()
