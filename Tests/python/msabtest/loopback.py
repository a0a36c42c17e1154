"""Make aiortc/aioice gather a 127.0.0.1 host candidate, for loopback-only tests.

aioice leaves loopback addresses out of its host candidates, so two peers on one machine (or a
peer and an msab bound to 127.0.0.1) would find no candidate pair. Tests must bind only
127.0.0.1, so :func:`apply` replaces ``aioice.ice.get_host_addresses`` with one that returns
exactly ``["127.0.0.1"]`` (no IPv6). It is idempotent and is applied on import by
``msabtest.client`` and by the harness self-tests; :func:`restore` undoes it.
"""
from __future__ import annotations

import aioice.ice

_original = aioice.ice.get_host_addresses


def _loopback_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return ["127.0.0.1"] if use_ipv4 else []


def apply() -> None:
    """Patch aioice so every ICE agent in this process gathers only 127.0.0.1."""
    aioice.ice.get_host_addresses = _loopback_host_addresses


def restore() -> None:
    """Put aioice's own host address discovery back."""
    aioice.ice.get_host_addresses = _original


def is_applied() -> bool:
    return aioice.ice.get_host_addresses is _loopback_host_addresses
