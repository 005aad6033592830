"""A free TCP port for a server this process is about to start (tests, chaos, bench).

Asking the kernel for port 0 hands out a port of the ephemeral range, the same range every
outgoing connection takes its local port from: between the moment the port is found free and
the moment the server binds it, a client connection anywhere on the machine (another test's
HTTP call, a Kafka client) may take it, and the server fails with "address already in use"
while something else answers on its address. So the port is drawn at random below the
ephemeral range, which outgoing connections never use, and checked free before it is given.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOWEST = 20_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_TRIES = 200


def _first_ephemeral() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default; IANA's is 49152


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, outside the range outgoing connections draw from."""
    highest = _first_ephemeral()
    if highest - _LOWEST > 1_000:
        draw = random.SystemRandom()
        for _ in range(_TRIES):
            port = draw.randrange(_LOWEST, highest)
            if _bindable(host, port):
                return port
    with socket.socket() as sock:  # no room below the ephemeral range: let the kernel choose
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
