"""Reading msab's Prometheus ``/metrics`` in tests: one sample by name and labels, the sum of a
metric's samples, and waiting for a value (async) or for any condition (:func:`wait_until`)."""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, TypeVar

import requests

T = TypeVar("T")


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


def metric_total(server: Any, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (``reason="x"`` matches
    ``{reason="x",worker="0"}``); 0 when there are none."""
    total = 0.0
    for line in requests.get(server.url + "/metrics", timeout=5).text.splitlines():
        if not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def wait_until(probe: Callable[[], T], done: Callable[[T], bool], timeout: float, what: str = "",
               interval: float = 0.05) -> T:
    """Calls ``probe`` until ``done(value)`` holds and returns that value; after ``timeout``
    seconds raises ``AssertionError`` naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe}: last {value!r}")
        time.sleep(interval)


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
