"""Free TCP ports for processes that bind them later (``borderflow up``'s children).

A port found by ``bind(("127.0.0.1", 0))`` and released is one the kernel hands out again
soon: to the next ``bind(0)`` of any process (the Temporal dev server numbers its internal
services so, while ``up`` starts it before the simulators) or as the local port of an outgoing
connection. The port chosen for a simulator was then taken by the time the simulator bound it.
Guarantee of :func:`free_port`: the port is below the kernel's ephemeral range (which neither
``bind(0)`` nor ``connect`` draws from), nobody listened on it when it was chosen, and this
process never hands out the same port twice.
"""

import random
import socket
from pathlib import Path

LOWEST = 10_000
"""Below this are the ports services are registered on (and this repository's defaults)."""
_given: set[int] = set()


def _ephemeral_start() -> int:
    try:
        low = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]
        return int(low)
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default, and IANA's dynamic range starts higher still


def free_port() -> int:
    """A port on 127.0.0.1 that no one listens on, outside the kernel's ephemeral range."""
    high = _ephemeral_start()
    for _ in range(500):
        port = random.randrange(LOWEST, high)
        if port in _given:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port between {LOWEST} and {high}")


__all__ = ["free_port"]
