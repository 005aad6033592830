"""A free TCP port for a server this process is about to start (tests, chaos, bench).

Asking the kernel for port 0 hands out a port of the ephemeral range, the same range every
outgoing connection takes its local port from: between the moment the port is found free and
the moment the server binds it, a client connection anywhere on the machine (another test's
HTTP call, a Kafka client) may take it, and the server fails with "address already in use"
while something else answers on its address. So the port is drawn at random below the
ephemeral range, which outgoing connections never use, and checked free before it is given.

Two processes drawing at once (two test workers, each starting a platform) could still draw
the same free port; each drawn port is therefore claimed with a file created exclusively in a
folder of the machine's temporary directory, and no other process is given it for the next
ten minutes, time enough for the server it was drawn for to bind it.
"""

from __future__ import annotations

import os
import random
import socket
import tempfile
import time
from pathlib import Path

_LOWEST = 20_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_TRIES = 200
_CLAIM_S = 600.0


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
            if _bindable(host, port) and _claim(port):
                return port
    with socket.socket() as sock:  # no room below the ephemeral range: let the kernel choose
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _claim(port: int) -> bool:
    """True for the one process that claims `port` first in `_CLAIM_S` seconds."""
    folder = Path(tempfile.gettempdir()) / f"teacher-hiring-ports-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    claim = folder / str(port)
    try:
        if time.time() - claim.stat().st_mtime > _CLAIM_S:
            claim.unlink(missing_ok=True)  # an old claim: its server is long up, or gone
    except FileNotFoundError:
        pass
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True
