"""Headless Chromium interoperates with msab's SFU: the fake microphone goes up through an
RTCPeerConnection to a producer and comes back down through a consumer.

There is no socket.io-client nor mediasoup-client in Debian, so the Socket.IO signalling is done
by Python (:class:`support.Client`, a real python-socketio client with a token) and the server's
JSON is handed to the page with ``page.evaluate``; the page does all of the WebRTC, and builds its
SDP from the server's parameters the way mediasoup-client's Chrome handler does:

- send side: ``addTransceiver(track, {direction: 'sendonly'})``, ``createOffer``,
  ``setLocalDescription``; the remote *answer* is written from the ``transport:create`` ack
  (ice-lite, ICE ufrag/pwd, candidates, sha-256 fingerprint, ``a=setup:passive`` because we tell
  the server our DTLS role is ``client``), with the payload type, fmtp and extension ids taken
  from the offer (only what the router's rtpCapabilities support); ``audio:produce`` gets the
  rtpParameters mediasoup-client would derive from that offer (mid, codec, header extensions,
  the SSRC, the cname).
- receive side: ``audio:consume`` with the rtpCapabilities a mediasoup-client Device would have
  (the router's, minus extensions the router only receives), then the remote *offer* is written
  from the consumer's rtpParameters (mid, payload type, SSRC, cname, header extensions,
  ``a=sendonly``, ``a=setup:actpass``); Chrome answers ``a=setup:active`` (DTLS client), and the
  received track is played by an ``<audio>`` element so that Chrome computes ``audioLevel``.

The page is served from 127.0.0.1 (a secure context, so ``getUserMedia`` works with the fake
device, which plays a beep). When media does not flow, the assertion message carries the
evidence: the SDPs, both peer connections' getStats, the page console and the server log.
"""
from __future__ import annotations

import json
import re
import textwrap
import time
import uuid
from typing import Any

import pytest

from msabtest.server import MsabServer
from msabtest.sioclient import Client

pytestmark = [pytest.mark.browser, pytest.mark.media, pytest.mark.timeout(90)]

PAGE = textwrap.dedent(r"""
    <!doctype html><meta charset="utf-8"><title>msab chromium media</title>
    <script>
    'use strict';
    const st = {sdp: {}};

    // --- a small SDP reader (what mediasoup-client gets from sdp-transform) -----------------
    function params(fmtp) {
      const out = {};
      for (const kv of (fmtp || '').split(';')) {
        if (!kv.trim()) continue;
        const i = kv.indexOf('=');
        const k = kv.slice(0, i).trim(), v = kv.slice(i + 1).trim();
        out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
      }
      return out;
    }
    function fmtp(p) { return Object.entries(p || {}).map(([k, v]) => `${k}=${v}`).join(';'); }
    function readSdp(sdp) {
      const lines = sdp.split(/\r?\n/);
      const r = {fingerprint: null, mid: null, setup: null, opus: null, rtpmap: {}, fmtp: {},
                 rtcpFb: {}, extmap: [], ssrc: null, cname: null};
      let inAudio = false;
      for (const l of lines) {
        let m;
        if (l.startsWith('m=')) { inAudio = l.startsWith('m=audio'); continue; }
        if ((m = /^a=fingerprint:(\S+) (\S+)/.exec(l))) r.fingerprint = {algorithm: m[1].toLowerCase(), value: m[2]};
        if (!inAudio) continue;
        if ((m = /^a=mid:(\S+)/.exec(l))) r.mid = m[1];
        else if ((m = /^a=setup:(\S+)/.exec(l))) r.setup = m[1];
        else if ((m = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(l))) {
          r.rtpmap[m[1]] = {name: m[2], clockRate: Number(m[3]), channels: m[4] ? Number(m[4]) : 1};
          if (m[2].toLowerCase() === 'opus' && r.opus === null) r.opus = Number(m[1]);
        }
        else if ((m = /^a=fmtp:(\d+) (.*)/.exec(l))) r.fmtp[m[1]] = params(m[2]);
        else if ((m = /^a=rtcp-fb:(\d+) (\S+)(?: (\S+))?/.exec(l))) (r.rtcpFb[m[1]] ||= []).push({type: m[2], parameter: m[3] || ''});
        else if ((m = /^a=extmap:(\d+)(?:\/\S+)? (\S+)/.exec(l))) r.extmap.push({id: Number(m[1]), uri: m[2]});
        else if ((m = /^a=ssrc:(\d+) cname:(\S+)/.exec(l))) { if (r.ssrc === null) { r.ssrc = Number(m[1]); r.cname = m[2]; } }
      }
      return r;
    }

    // --- the remote (server) side of the SDP, from transport:create's ack -------------------
    function transportLines(t, setup) {
      const fp = t.dtlsParameters.fingerprints.find(f => f.algorithm === 'sha-256') || t.dtlsParameters.fingerprints[0];
      const out = [
        `a=ice-ufrag:${t.iceParameters.usernameFragment}`,
        `a=ice-pwd:${t.iceParameters.password}`,
        `a=fingerprint:${fp.algorithm} ${fp.value}`,
        `a=setup:${setup}`,
      ];
      for (const c of t.iceCandidates) {
        // RFC 6544 §4.5: a TCP candidate names its tcptype (msab's are passive).
        out.push(`a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.ip || c.address} ${c.port} typ ${c.type}` +
                 (c.protocol === 'tcp' ? ` tcptype ${c.tcpType || 'passive'}` : ''));
      }
      out.push('a=end-of-candidates', 'a=rtcp-mux', 'a=rtcp-rsize');
      return out;
    }
    function sessionLines(mid) {
      return ['v=0', `o=msab ${Math.floor(Math.random() * 1e9)} 1 IN IP4 0.0.0.0`, 's=-', 't=0 0',
              'a=ice-lite', `a=group:BUNDLE ${mid}`, 'a=msid-semantic: WMS *'];
    }
    function sameFb(a, b) { return a.type === b.type && (a.parameter || '') === (b.parameter || ''); }

    // --- send side --------------------------------------------------------------------------
    // Step 1: microphone, sendonly transceiver, local offer. Returns what Python needs for
    // transport:connect (our fingerprint) and audio:produce (rtpParameters, as mediasoup-client
    // derives them from the offer and the router's rtpCapabilities).
    async function prepareSend(routerCaps) {
      st.stream = await navigator.mediaDevices.getUserMedia({audio: true});
      const track = st.stream.getAudioTracks()[0];
      st.sendPc = new RTCPeerConnection({bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require'});
      st.sendPc.addTransceiver(track, {direction: 'sendonly', streams: [st.stream]});
      const offer = await st.sendPc.createOffer();
      await st.sendPc.setLocalDescription(offer);
      st.sdp.sendOffer = offer.sdp;
      const o = readSdp(offer.sdp);
      const capOpus = routerCaps.codecs.find(c => c.mimeType.toLowerCase() === 'audio/opus');
      const pt = o.opus;
      const codec = {
        mimeType: 'audio/opus', payloadType: pt, clockRate: 48000, channels: 2,
        parameters: o.fmtp[pt] || {},
        rtcpFeedback: (o.rtcpFb[pt] || []).filter(f => (capOpus.rtcpFeedback || []).some(c => sameFb(c, f))),
      };
      // Extensions the router can receive (sendrecv or recvonly on its side), with our ids.
      const capUris = new Set(routerCaps.headerExtensions
        .filter(e => e.kind === 'audio' && (e.direction === 'sendrecv' || e.direction === 'recvonly'))
        .map(e => e.uri));
      const headerExtensions = o.extmap.filter(e => capUris.has(e.uri)).map(e => ({uri: e.uri, id: e.id, encrypt: false, parameters: {}}));
      st.send = {offer: o, codec, headerExtensions};
      return {
        offer: o,
        dtlsParameters: {role: 'client', fingerprints: [o.fingerprint]},
        rtpParameters: {mid: o.mid, codecs: [codec], headerExtensions,
                        encodings: [{ssrc: o.ssrc, dtx: false}],
                        rtcp: {cname: o.cname, reducedSize: true, mux: true}},
      };
    }
    // Step 2: the server's answer (we are the DTLS client, so the server is passive).
    async function completeSend(t) {
      const {offer: o, codec, headerExtensions} = st.send;
      const pt = codec.payloadType;
      const lines = [...sessionLines(o.mid),
        `m=audio 7 UDP/TLS/RTP/SAVPF ${pt}`, 'c=IN IP4 127.0.0.1',
        ...transportLines(t, 'passive'),
        `a=mid:${o.mid}`, 'a=recvonly',
        `a=rtpmap:${pt} opus/48000/2`];
      if (Object.keys(codec.parameters).length) lines.push(`a=fmtp:${pt} ${fmtp(codec.parameters)}`);
      for (const f of codec.rtcpFeedback) lines.push(`a=rtcp-fb:${pt} ${f.type}${f.parameter ? ' ' + f.parameter : ''}`);
      for (const e of headerExtensions) lines.push(`a=extmap:${e.id} ${e.uri}`);
      const sdp = lines.join('\r\n') + '\r\n';
      st.sdp.sendAnswer = sdp;
      await st.sendPc.setRemoteDescription({type: 'answer', sdp});
      return sdp;
    }

    // --- receive side -----------------------------------------------------------------------
    // The server's offer from the consumer's rtpParameters; Chrome answers (DTLS active).
    async function prepareRecv(t, consumer) {
      const rp = consumer.rtpParameters;
      const mid = rp.mid !== undefined ? rp.mid : '0';
      const codec = rp.codecs[0];
      const pt = codec.payloadType;
      const ssrc = rp.encodings[0].ssrc;
      const name = codec.mimeType.split('/')[1];
      const lines = [...sessionLines(mid),
        `m=audio 7 UDP/TLS/RTP/SAVPF ${pt}`, 'c=IN IP4 127.0.0.1',
        ...transportLines(t, 'actpass'),
        `a=mid:${mid}`, 'a=sendonly',
        `a=rtpmap:${pt} ${name}/${codec.clockRate}${codec.channels > 1 ? '/' + codec.channels : ''}`];
      if (Object.keys(codec.parameters || {}).length) lines.push(`a=fmtp:${pt} ${fmtp(codec.parameters)}`);
      for (const f of codec.rtcpFeedback || []) lines.push(`a=rtcp-fb:${pt} ${f.type}${f.parameter ? ' ' + f.parameter : ''}`);
      for (const e of rp.headerExtensions || []) lines.push(`a=extmap:${e.id} ${e.uri}`);
      const streamId = 'msab-' + consumer.producerId, trackId = 'consumer-' + consumer.id;
      lines.push(`a=msid:${streamId} ${trackId}`,
                 `a=ssrc:${ssrc} cname:${(rp.rtcp && rp.rtcp.cname) || 'msab'}`,
                 `a=ssrc:${ssrc} msid:${streamId} ${trackId}`);
      const sdp = lines.join('\r\n') + '\r\n';
      st.sdp.recvOffer = sdp;
      st.recvPc = new RTCPeerConnection({bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require'});
      st.recvTrack = new Promise(res => st.recvPc.ontrack = ev => res(ev.track));
      await st.recvPc.setRemoteDescription({type: 'offer', sdp});
      const answer = await st.recvPc.createAnswer();
      await st.recvPc.setLocalDescription(answer);
      st.sdp.recvAnswer = answer.sdp;
      const a = readSdp(answer.sdp);
      // Play the track: Chrome computes inbound-rtp audioLevel for audio that is played out.
      const track = await st.recvTrack;
      st.audio = new Audio();
      st.audio.autoplay = true;
      st.audio.srcObject = new MediaStream([track]);
      // Not awaited: play() may wait for the first frame, which a paused consumer never sends.
      st.played = 'pending';
      st.audio.play().then(() => { st.played = 'ok'; }, e => { st.played = String(e); });
      return {answer: a, setup: a.setup, trackKind: track.kind,
              dtlsParameters: {role: a.setup === 'active' ? 'client' : 'server', fingerprints: [a.fingerprint]}};
    }

    // --- stats ------------------------------------------------------------------------------
    async function pcStats(pc) {
      if (!pc) return null;
      const out = {connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState,
                   signalingState: pc.signalingState, reports: {}};
      const report = await pc.getStats();
      for (const s of report.values()) {
        if (['inbound-rtp', 'outbound-rtp', 'transport', 'candidate-pair', 'remote-inbound-rtp', 'codec'].includes(s.type)) {
          if (s.type === 'candidate-pair' && !s.nominated && s.state !== 'succeeded') continue;
          out.reports[s.id] = s;
        }
      }
      return out;
    }
    function pick(stats, type) {
      if (!stats) return null;
      return Object.values(stats.reports).find(s => s.type === type && (s.kind || 'audio') === 'audio') || null;
    }
    async function recvSample() {
      const s = await pcStats(st.recvPc);
      const i = pick(s, 'inbound-rtp'), t = pick(s, 'transport');
      return {connectionState: s && s.connectionState,
              dtlsState: t && t.dtlsState, srtpCipher: t && t.srtpCipher, dtlsRole: t && t.dtlsRole,
              packetsReceived: i ? i.packetsReceived : 0, audioLevel: i ? (i.audioLevel || 0) : 0,
              totalAudioEnergy: i ? (i.totalAudioEnergy || 0) : 0, bytesReceived: i ? i.bytesReceived : 0,
              packetsLost: i ? i.packetsLost : null, ssrc: i ? i.ssrc : null,
              played: st.played,
              audioElement: st.audio ? {paused: st.audio.paused, currentTime: st.audio.currentTime} : null};
    }
    async function sendSample() {
      const s = await pcStats(st.sendPc);
      const o = pick(s, 'outbound-rtp'), t = pick(s, 'transport');
      return {connectionState: s && s.connectionState,
              dtlsState: t && t.dtlsState, srtpCipher: t && t.srtpCipher, dtlsRole: t && t.dtlsRole,
              packetsSent: o ? o.packetsSent : 0, ssrc: o ? o.ssrc : null};
    }
    // The protocol of the selected candidate pair's remote (msab's) candidate: 'udp' or 'tcp'.
    async function selectedRemoteProtocol(which) {
      const pc = which === 'send' ? st.sendPc : st.recvPc;
      if (!pc) return null;
      const report = await pc.getStats();
      for (const s of report.values()) {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
        const pair = report.get(s.selectedCandidatePairId);
        const remote = pair && report.get(pair.remoteCandidateId);
        return remote ? remote.protocol : null;
      }
      return null;
    }
    async function evidence() {
      return {sdp: st.sdp, send: await pcStats(st.sendPc), recv: await pcStats(st.recvPc)};
    }
    </script>
""")

# Lines of msab's log at these levels mean the server saw something wrong.
LOG_PROBLEM = re.compile(r"^\S+ (warning|error|critical)\b.*$", re.M | re.I)


def assert_clean_log(server: MsabServer) -> None:
    problems = [m.group(0) for m in LOG_PROBLEM.finditer(server.log())]
    assert not problems, "msab logged problems:\n" + "\n".join(problems)


def device_recv_caps(router_caps: dict[str, Any]) -> dict[str, Any]:
    """The rtpCapabilities a mediasoup-client Device loaded in Chrome ends up with for audio.

    Device.rtpCapabilities keeps the router's codecs (with the router's payload types) and the
    header extensions the device can receive: those the router sends (``sendrecv``/``sendonly``
    on the router's side); transport-wide-cc is ``recvonly`` on the router, so it is dropped.
    """
    return {
        "codecs": [c for c in router_caps["codecs"] if c["kind"] == "audio"],
        "headerExtensions": [e for e in router_caps["headerExtensions"]
                             if e["kind"] == "audio" and e.get("direction", "sendrecv") in ("sendrecv", "sendonly")],
    }


def ok(ack: Any, what: str) -> Any:
    assert isinstance(ack, dict) and "error" not in ack, f"{what} failed: {ack!r}"
    return ack


class Call:
    """Alice produces the page's microphone, Bob consumes it back into the same page."""

    def __init__(self, server: MsabServer, page: Any) -> None:
        self.server, self.page = server, page
        self.room = f"chromium-{uuid.uuid4().hex[:8]}"
        self.alice = Client(server, server.token(701, "Alice"))
        self.bob = Client(server, server.token(702, "Bob"))
        self.consumer: dict[str, Any] = {}

    def close(self) -> None:
        self.alice.close()
        self.bob.close()

    def setup(self, resume: bool = True) -> None:
        room, page = self.room, self.page
        caps = ok(self.alice.call("room:join", {"roomId": room}), "room:join")["rtpCapabilities"]
        ok(self.bob.call("room:join", {"roomId": room}), "room:join")
        # The room hears seat holders only (MSAB_SEATED_SPEAKERS_ONLY).
        assert self.alice.call("seat:take", {"roomId": room, "seatIndex": 0}) == {"success": True}

        # Send side: offer first (mediasoup-client order), then transport:connect, answer, produce.
        local = page.evaluate(f"prepareSend({json.dumps(caps)})", timeout=20)
        rtp = local["rtpParameters"]
        assert rtp["codecs"][0]["payloadType"] and rtp["encodings"][0]["ssrc"], local
        assert local["dtlsParameters"]["fingerprints"][0]["algorithm"] == "sha-256", local
        send_t = ok(self.alice.call("transport:create", {"type": "producer", "roomId": room}), "transport:create")
        assert send_t["iceParameters"].get("iceLite") is True
        assert all(c["ip"] == "127.0.0.1" for c in send_t["iceCandidates"]), send_t
        assert ok(self.alice.call("transport:connect", {"roomId": room, "transportId": send_t["id"],
                                                         "dtlsParameters": local["dtlsParameters"]}),
                  "transport:connect (send)") == {"success": True}
        page.evaluate(f"completeSend({json.dumps(send_t)})")
        producer = ok(self.alice.call("audio:produce", {"roomId": room, "transportId": send_t["id"],
                                                         "kind": "audio", "rtpParameters": rtp}), "audio:produce")
        assert set(producer) == {"id"}
        self.bob.wait_for("audio:newProducer", lambda p: p["producerId"] == producer["id"])

        # Receive side: consume, the page builds the offer and answers, connect, resume.
        recv_t = ok(self.bob.call("transport:create", {"type": "consumer", "roomId": room}), "transport:create")
        consumer = ok(self.bob.call("audio:consume", {"roomId": room, "transportId": recv_t["id"],
                                                       "producerId": producer["id"],
                                                       "rtpCapabilities": device_recv_caps(caps)}), "audio:consume")
        assert consumer["kind"] == "audio" and consumer["producerId"] == producer["id"]
        self.consumer = consumer
        remote = page.evaluate(f"prepareRecv({json.dumps(recv_t)}, {json.dumps(consumer)})", timeout=20)
        assert remote["setup"] == "active", remote  # Chrome picks the DTLS client role
        assert remote["trackKind"] == "audio", remote
        assert ok(self.bob.call("transport:connect", {"roomId": room, "transportId": recv_t["id"],
                                                       "dtlsParameters": remote["dtlsParameters"]}),
                  "transport:connect (recv)") == {"success": True}
        if resume:
            self.resume()

    def resume(self) -> None:
        assert ok(self.bob.call("consumer:resume", {"roomId": self.room, "consumerId": self.consumer["id"]}),
                  "consumer:resume") == {"success": True}

    def evidence(self) -> str:
        try:
            ev = self.page.evaluate("evidence()", timeout=10)
        except Exception as e:  # noqa: BLE001 - evidence is best effort
            ev = {"evidence failed": repr(e)}
        return (f"\n--- page evidence ---\n{json.dumps(ev, indent=1, default=str)[:20000]}"
                f"\n--- console ---\n{self.page.console[-50:]}"
                f"\n--- server log ---\n{self.server.log()[-8000:]}")


def wait_sample(page: Any, predicate: Any, timeout: float) -> tuple[bool, dict[str, Any], list[dict[str, Any]]]:
    """Poll the receiver's stats until ``predicate(sample)``; returns (met, last sample, history)."""
    history: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        sample = page.evaluate("recvSample()", timeout=10)
        history.append(sample)
        if predicate(sample):
            return True, sample, history
        if time.monotonic() > deadline:
            return False, sample, history
        time.sleep(0.25)


@pytest.fixture
def server() -> Any:
    with MsabServer.small() as s:
        yield s


@pytest.fixture
def media_page(chromium: Any, static_site: Any) -> Any:
    site = static_site({"media.html": PAGE})
    page = chromium.page()
    page.navigate(site.url + "/media.html")
    return page


def test_chromium_fake_mic_goes_through_producer_and_comes_back_through_consumer(server: MsabServer, media_page: Any) -> None:
    call = Call(server, media_page)
    try:
        call.setup(resume=True)
        met, last, history = wait_sample(
            media_page, lambda s: s["packetsReceived"] > 100 and s["audioLevel"] > 0, timeout=20)
        sent = media_page.evaluate("sendSample()")
        print(f"receiver: {last}\nsender: {sent}")
        assert met, (f"no audio back from msab within 20 s: last {last}; sender {sent};"
                     f" history {history[-5:]}{call.evidence()}")
        assert last["connectionState"] == "connected" and last["dtlsState"] == "connected", last
        assert sent["connectionState"] == "connected" and sent["packetsSent"] > 100, sent
        # The consumer's stream is the one Chrome receives: the SSRC from audio:consume.
        assert last["ssrc"] == call.consumer["rtpParameters"]["encodings"][0]["ssrc"], last
        assert last["totalAudioEnergy"] > 0 and last["played"] == "ok", last
        assert_clean_log(server)
    finally:
        call.close()


def test_chromium_consumer_not_resumed_receives_nothing_until_resumed(server: MsabServer, media_page: Any) -> None:
    """Negative control: the same call without consumer:resume gets no RTP, although both peer
    connections are connected and the sender is sending; resuming then lets the audio through."""
    call = Call(server, media_page)
    try:
        call.setup(resume=False)
        # Wait until both transports are up and the sender has sent ~3 s of audio (150 packets).
        deadline = time.monotonic() + 20
        while True:
            sent = media_page.evaluate("sendSample()")
            recv = media_page.evaluate("recvSample()")
            if (sent["packetsSent"] > 150 and recv["connectionState"] == "connected") or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert sent["packetsSent"] > 150 and recv["connectionState"] == "connected", \
            f"setup did not complete: sender {sent} receiver {recv}{call.evidence()}"
        time.sleep(1.0)
        recv = media_page.evaluate("recvSample()")
        assert recv["packetsReceived"] == 0, f"a paused consumer forwarded RTP: {recv}"
        assert recv["audioLevel"] == 0, recv
        call.resume()
        met, last, _ = wait_sample(media_page, lambda s: s["packetsReceived"] > 100 and s["audioLevel"] > 0, timeout=20)
        assert met, f"resumed consumer got no audio: {last}{call.evidence()}"
        assert_clean_log(server)
    finally:
        call.close()
