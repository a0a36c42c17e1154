"""Reading msab's Prometheus ``/metrics`` in tests: one sample by name and labels, and waiting for one."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import requests


def metric(server: Any, name: str, labels: str = "", missing: float | None = 0.0) -> float:
    """The sample ``name{labels}`` (exact name; ``labels`` as the exposition writes them, e.g.
    ``reason="inbound_overflow"``). ``missing`` when absent; None raises instead."""
    text = requests.get(server.url + "/metrics", timeout=5).text
    series = name + ("{" + labels + "}" if labels else "")
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        if head == series:
            return float(value)
    if missing is None:
        raise AssertionError(f"{series} not in /metrics")
    return missing


async def wait_metric(server: Any, name: str, expected: float, labels: str = "", timeout: float = 8.0) -> None:
    """Polls until ``name{labels}`` equals ``expected`` (fails with the last value seen)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = metric(server, name, labels, missing=None)
        if value == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name} is {value}, expected {expected}")
