"""Audio sources and measurements for msab's real-peer media tests.

A test that claims "the SFU forwarded the speaker's audio" must look at the audio itself,
not at packet counters. This module supplies both ends of that check:

- :class:`ToneTrack` is an aiortc ``MediaStreamTrack`` (kind ``"audio"``) that produces a pure
  sine tone as ``av.AudioFrame`` s16 mono, 960 samples (20 ms) at 48 kHz, paced in real time with
  ``asyncio.sleep`` like aiortc's own tracks, so it can be handed to ``RTCPeerConnection.addTrack``
  or to a pymediasoup ``transport.produce(track=...)``.
- :func:`collect_audio` reads decoded frames from a receiving track (aiortc decodes Opus to s16
  stereo 48 kHz, 960 samples per frame) for a given audio duration and returns a :class:`Capture`.
- :func:`dominant_frequency` (Hann window + FFT + parabolic interpolation of the log spectrum, so a
  ±5 Hz tolerance is meaningful) and :func:`rms_dbfs` analyse what was captured.

Levels are in dBFS relative to a full-scale square wave: a sine of peak amplitude ``a`` (fraction
of full scale) has RMS ``a/√2`` and so ``20·log10(a/√2)`` dBFS (a full-scale sine is −3.01 dBFS);
:func:`tone_rms_dbfs` gives that expected value, and :func:`expected_received_dbfs` the value a
receiver measures per channel after aiortc's mono→stereo upmix (see ``AIORTC_MONO_UPMIX_DB``).
"""
from __future__ import annotations

import asyncio
import fractions
import math
import time
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms at 48 kHz: one Opus frame as aiortc sends it
FULL_SCALE = 32768.0

# aiortc's Opus encoder resamples every frame to s16 *stereo* before encoding; libswresample
# places a mono source in both channels at −3.01 dB (the centre mix level 1/√2). So a mono
# ToneTrack of level L dBFS arrives, on each decoded channel, at L + AIORTC_MONO_UPMIX_DB.
# Measured here: sent −13.45 dBFS, each received channel −16.46 dBFS.
AIORTC_MONO_UPMIX_DB = 20.0 * math.log10(1.0 / math.sqrt(2.0))


class ToneTrack(MediaStreamTrack):
    """A live audio track that plays a sine tone of ``frequency`` Hz at peak ``amplitude``.

    ``amplitude`` is a fraction of full scale (0 < amplitude ≤ 1). The phase is continuous across
    frames, so the tone stays pure however long it runs. ``frequency`` and ``amplitude`` may be
    changed while the track runs (the next frame uses the new values); ``amplitude = 0`` sends
    digital silence.
    """

    kind = "audio"

    def __init__(self, frequency: float = 440.0, amplitude: float = 0.5,
                 sample_rate: int = SAMPLE_RATE, frame_samples: int = FRAME_SAMPLES) -> None:
        super().__init__()
        if not 0.0 <= amplitude <= 1.0:
            raise ValueError(f"amplitude must be in [0, 1], got {amplitude}")
        self.frequency = float(frequency)
        self.amplitude = float(amplitude)
        self.sample_rate = sample_rate
        self.frame_samples = frame_samples
        self.frames_sent = 0
        self._phase = 0.0
        self._start: float | None = None
        self._timestamp = 0

    def _next_samples(self) -> np.ndarray:
        n = self.frame_samples
        step = 2.0 * math.pi * self.frequency / self.sample_rate
        phases = self._phase + step * np.arange(n)
        self._phase = float((self._phase + step * n) % (2.0 * math.pi))
        # Scale to 32767 (not 32768) so amplitude 1.0 never overflows int16.
        return np.round(np.sin(phases) * self.amplitude * 32767.0).astype(np.int16)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
            self._timestamp = 0
        else:
            self._timestamp += self.frame_samples
            wait = self._start + self._timestamp / self.sample_rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        samples = self._next_samples()
        frame = av.AudioFrame(format="s16", layout="mono", samples=self.frame_samples)
        frame.planes[0].update(samples.tobytes())
        frame.pts = self._timestamp
        frame.sample_rate = self.sample_rate
        frame.time_base = fractions.Fraction(1, self.sample_rate)
        self.frames_sent += 1
        return frame


@dataclass
class Capture:
    """Decoded audio read from a receiving track.

    ``samples`` is channel 0 as int16 (what the analysis functions take); ``channels`` holds all
    channels with shape ``(n, channel_count)``. ``frame_count`` counts frames read,
    ``arrival_times`` their ``time.monotonic()`` arrival, ``ended`` tells whether the track ended
    (``MediaStreamError``) before the wanted duration was read, ``timed_out`` whether the wall
    clock limit stopped the read.
    """

    samples: np.ndarray
    channels: np.ndarray
    sample_rate: int
    frame_count: int
    frame_samples: list[int] = field(default_factory=list)
    arrival_times: list[float] = field(default_factory=list)
    formats: set[str] = field(default_factory=set)
    ended: bool = False
    timed_out: bool = False

    @property
    def sample_count(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Seconds of audio captured."""
        return self.sample_count / self.sample_rate if self.sample_rate else 0.0

    def tail(self, seconds: float) -> np.ndarray:
        """The last ``seconds`` of channel 0 (skips decoder/jitter-buffer start-up)."""
        n = int(seconds * self.sample_rate)
        return self.samples[-n:] if n < self.sample_count else self.samples

    def skip(self, seconds: float) -> np.ndarray:
        """Channel 0 without its first ``seconds``."""
        return self.samples[int(seconds * self.sample_rate):]


def frame_to_array(frame: av.AudioFrame) -> np.ndarray:
    """An ``av.AudioFrame`` as an int16 array of shape ``(samples, channels)``.

    Handles packed (``s16``: one plane, interleaved) and planar (``s16p``: one plane per channel)
    layouts; other sample formats are converted through float scaling.
    """
    channels = len(frame.layout.channels)
    data = frame.to_ndarray()
    if frame.format.is_planar:
        arr = data.T  # (channels, n) -> (n, channels)
    else:
        arr = data.reshape(-1, channels)
    if arr.dtype != np.int16:
        if np.issubdtype(arr.dtype, np.floating):
            arr = np.clip(np.round(arr * 32767.0), -32768, 32767).astype(np.int16)
        else:
            arr = arr.astype(np.int16)
    return arr


async def collect_audio(track: MediaStreamTrack, seconds: float,
                        timeout: float | None = None) -> Capture:
    """Read decoded frames from ``track`` until ``seconds`` of audio arrived.

    Stops early when the track ends or when ``timeout`` wall-clock seconds pass (default
    ``2 * seconds + 10``); a test then sees a short :class:`Capture` (check ``duration``).
    """
    limit = timeout if timeout is not None else 2.0 * seconds + 10.0
    deadline = time.monotonic() + limit
    chunks: list[np.ndarray] = []
    cap = Capture(samples=np.zeros(0, np.int16), channels=np.zeros((0, 1), np.int16),
                  sample_rate=0, frame_count=0)
    have = 0
    rate = 0
    while True:
        if rate and have >= seconds * rate:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            cap.timed_out = True
            break
        try:
            frame = await asyncio.wait_for(track.recv(), remaining)
        except asyncio.TimeoutError:
            cap.timed_out = True
            break
        except MediaStreamError:
            cap.ended = True
            break
        arr = frame_to_array(frame)
        rate = frame.sample_rate or rate
        cap.frame_count += 1
        cap.frame_samples.append(arr.shape[0])
        cap.arrival_times.append(time.monotonic())
        cap.formats.add(f"{frame.format.name}/{frame.layout.name}/{frame.sample_rate}")
        chunks.append(arr)
        have += arr.shape[0]
    if chunks:
        width = max(c.shape[1] for c in chunks)
        chunks = [c if c.shape[1] == width else np.repeat(c[:, :1], width, axis=1) for c in chunks]
        cap.channels = np.concatenate(chunks, axis=0)
        cap.samples = cap.channels[:, 0].copy()
    cap.sample_rate = rate
    return cap


def _as_float(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim > 1:
        x = x[:, 0]
    return x.astype(np.float64)


def dominant_frequency(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """The frequency (Hz) of the strongest spectral peak in ``samples`` (DC excluded).

    Hann-windowed real FFT; the peak bin is refined by a parabola through the log magnitudes of
    the peak and its neighbours (for a Hann window this is accurate to a small fraction of a bin,
    and a bin is ``sample_rate / len(samples)`` Hz: 0.5 Hz for 2 s at 48 kHz).
    Returns 0.0 for silence or fewer than 64 samples.
    """
    x = _as_float(samples)
    n = x.shape[0]
    if n < 64:
        return 0.0
    x = x - x.mean()
    if not np.any(x):
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(n)))
    spectrum[0] = 0.0
    k = int(np.argmax(spectrum))
    if spectrum[k] <= 0.0:
        return 0.0
    offset = 0.0
    if 0 < k < spectrum.shape[0] - 1:
        a, b, c = (math.log(max(v, 1e-12)) for v in spectrum[k - 1:k + 2])
        denom = a - 2.0 * b + c
        if denom != 0.0:
            offset = 0.5 * (a - c) / denom
    return (k + offset) * sample_rate / n


def rms(samples: np.ndarray) -> float:
    """Root-mean-square of ``samples`` in int16 units."""
    x = _as_float(samples)
    return float(math.sqrt(np.mean(x * x))) if x.shape[0] else 0.0


def rms_dbfs(samples: np.ndarray) -> float:
    """RMS level of ``samples`` in dBFS (``20·log10(rms/32768)``); ``-inf`` for digital silence."""
    r = rms(samples)
    return 20.0 * math.log10(r / FULL_SCALE) if r > 0 else float("-inf")


def tone_rms_dbfs(amplitude: float) -> float:
    """The RMS level in dBFS of a sine of peak ``amplitude`` (fraction of full scale)."""
    return 20.0 * math.log10(amplitude * 32767.0 / math.sqrt(2.0) / FULL_SCALE) if amplitude > 0 else float("-inf")


def expected_received_dbfs(amplitude: float) -> float:
    """The per-channel level a ToneTrack of ``amplitude`` has after aiortc's mono→stereo upmix."""
    return tone_rms_dbfs(amplitude) + AIORTC_MONO_UPMIX_DB


def band_energy_ratio(samples: np.ndarray, frequency: float, sample_rate: int = SAMPLE_RATE,
                      half_width: float = 20.0) -> float:
    """Fraction (0…1) of the signal's energy within ``frequency ± half_width`` Hz.

    Near 1 for a clean tone at ``frequency``; low for noise, silence or another tone.
    """
    x = _as_float(samples)
    n = x.shape[0]
    if n < 64:
        return 0.0
    x = x - x.mean()
    power = np.abs(np.fft.rfft(x * np.hanning(n))) ** 2
    total = float(power[1:].sum())
    if total <= 0.0:
        return 0.0
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    band = (freqs >= frequency - half_width) & (freqs <= frequency + half_width)
    return float(power[band].sum()) / total


def is_tone(samples: np.ndarray, frequency: float, sample_rate: int = SAMPLE_RATE,
            tolerance_hz: float = 5.0, min_band_ratio: float = 0.8) -> bool:
    """True when ``samples`` is dominated by a tone at ``frequency ± tolerance_hz``."""
    f = dominant_frequency(samples, sample_rate)
    return abs(f - frequency) <= tolerance_hz and band_energy_ratio(samples, frequency, sample_rate) >= min_band_ratio
