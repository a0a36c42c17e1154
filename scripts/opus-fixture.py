#!/usr/bin/env python3
"""Regenerates Sources/LoadTest/OpusFixture.swift's data: one second of a 440 Hz tone
(-10 dBFS, stereo, 48 kHz) encoded by the system libopus (OPUS_APPLICATION_VOIP, 32 kbit/s),
printed as base64 of `length (u16 BE) || frame` records. Needs libopus0 and numpy."""
import base64
import ctypes
import math

import numpy as np

lib = ctypes.CDLL("libopus.so.0")
err = ctypes.c_int()
lib.opus_encoder_create.restype = ctypes.c_void_p
enc = lib.opus_encoder_create(48000, 2, 2048, ctypes.byref(err))  # 2048 = OPUS_APPLICATION_VOIP
assert err.value == 0
lib.opus_encoder_ctl(ctypes.c_void_p(enc), 4002, ctypes.c_int(32000))  # OPUS_SET_BITRATE
lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int32]
out = ctypes.create_string_buffer(1500)
blob = b""
for i in range(50):
    t = (np.arange(960) + i * 960) / 48000.0
    mono = (0.3 * 32767 * np.sin(2 * math.pi * 440 * t)).astype(np.int16)
    stereo = np.ascontiguousarray(np.repeat(mono, 2))
    n = lib.opus_encode(enc, stereo.ctypes.data, 960, out, 1500)
    assert n > 0, n
    blob += n.to_bytes(2, "big") + out.raw[:n]
print(base64.b64encode(blob).decode())
