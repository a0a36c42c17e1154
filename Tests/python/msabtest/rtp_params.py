"""Hand-written mediasoup RTP parameters for signalling tests that produce or consume without a
real device (pymediasoup builds its own in :mod:`msabtest.client`): one Opus stream, 48 kHz stereo,
payload type 111."""
from __future__ import annotations

from typing import Any


def opus_rtp_parameters(ssrc: int, header_extensions: bool = True) -> dict[str, Any]:
    """``rtpParameters`` of an ``audio:produce``: Opus on payload type 111, one encoding with ``ssrc``
    (an empty ``headerExtensions`` list unless ``header_extensions`` is False, which leaves the key out)."""
    params: dict[str, Any] = {"codecs": [{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000, "channels": 2}],
                              "encodings": [{"ssrc": ssrc}]}
    if header_extensions:
        params["headerExtensions"] = []
    return params


def opus_rtp_capabilities(header_extensions: bool = True) -> dict[str, Any]:
    """``rtpCapabilities`` of an ``audio:consume`` that can receive Opus (an empty
    ``headerExtensions`` list unless ``header_extensions`` is False, which leaves the key out)."""
    caps: dict[str, Any] = {"codecs": [{"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2}]}
    if header_extensions:
        caps["headerExtensions"] = []
    return caps
