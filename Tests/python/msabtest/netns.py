"""A second test host on this machine: a network namespace joined to the current one by a veth pair.

Firefox never pairs a loopback ICE candidate with its own non-loopback addresses, so a test that
puts Firefox and msab on one machine gives each a host of its own: msab stays in the test's
namespace on the near end of the pair (``near``, e.g. ``10.231.N.1``), Firefox runs in the new
namespace (``ip netns exec NAME …``) with the far end (``far``, ``10.231.N.2``) and its own
loopback. The /30 has no route anywhere else, so all traffic stays on this machine.

``VethHost().create()`` needs CAP_NET_ADMIN (root); :class:`NetnsUnavailable` says why it could
not, so a test can skip with that reason. ``remove()`` deletes the link and the namespace and is
safe to call after a partial ``create()``. :func:`inside` runs a block with the calling thread in
the namespace: sockets created there stay in it (how the test reaches Firefox's remote agent,
which listens on the namespace's own 127.0.0.1).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import random
import shutil
import subprocess
import uuid
from typing import Iterator

CLONE_NEWNET = 0x40000000


class NetnsUnavailable(RuntimeError):
    """The namespace or the veth pair could not be created (no `ip`, no privilege, …)."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and r.returncode != 0:
        raise NetnsUnavailable(f"`ip {' '.join(args)}` failed ({r.returncode}): {r.stderr.strip()}")
    return r


def _used_10_231() -> set[int]:
    """Third octets of 10.231.x.0/24 already on an interface or in a route here."""
    used: set[int] = set()
    out = _ip("-4", "-o", "addr", check=False).stdout + _ip("-4", "route", "show", "table", "all", check=False).stdout
    for word in out.replace("/", " ").split():
        parts = word.split(".")
        if len(parts) == 4 and parts[0] == "10" and parts[1] == "231" and parts[2].isdigit():
            used.add(int(parts[2]))
    return used


class VethHost:
    """A network namespace with a veth pair to the current namespace, on a free 10.231.N.0/30."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.name = f"msabff-{tag}"
        self.near_if = f"vms{tag}"  # ≤ 15 characters (IFNAMSIZ)
        self.far_if = f"vff{tag}"
        self.near = ""
        self.far = ""
        self._made_ns = False
        self._made_link = False

    def create(self) -> "VethHost":
        if shutil.which("ip") is None:
            raise NetnsUnavailable("the `ip` command (iproute2) is not installed")
        free = [n for n in range(1, 255) if n not in _used_10_231()]
        if not free:
            raise NetnsUnavailable("no free 10.231.x.0/30 subnet")
        n = random.SystemRandom().choice(free)
        self.near, self.far = f"10.231.{n}.1", f"10.231.{n}.2"
        try:
            _ip("netns", "add", self.name)
            self._made_ns = True
            _ip("link", "add", self.near_if, "type", "veth", "peer", "name", self.far_if, "netns", self.name)
            self._made_link = True
            _ip("addr", "add", f"{self.near}/30", "dev", self.near_if)
            _ip("link", "set", self.near_if, "up")
            _ip("-n", self.name, "addr", "add", f"{self.far}/30", "dev", self.far_if)
            _ip("-n", self.name, "link", "set", self.far_if, "up")
            _ip("-n", self.name, "link", "set", "lo", "up")
        except Exception:
            self.remove()
            raise
        return self

    def exec_prefix(self) -> list[str]:
        """Prefix a command with this to run it inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def remove(self) -> None:
        if self._made_link:
            _ip("link", "del", self.near_if, check=False)  # deletes the peer too
            self._made_link = False
        if self._made_ns:
            _ip("netns", "del", self.name, check=False)
            self._made_ns = False

    def __enter__(self) -> "VethHost":
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.remove()


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def inside(name: str) -> Iterator[None]:
    """Run the block with this thread in namespace ``name`` (setns is per thread), then return."""
    own = os.open(f"/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(own)
