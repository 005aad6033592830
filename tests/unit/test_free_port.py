"""A free port for a server about to start is drawn outside the range outgoing connections use."""

from __future__ import annotations

import multiprocessing
import os
import socket
from pathlib import Path

import pytest

from teacher_hiring.foundation import ports


def test_the_port_is_below_the_ephemeral_range_and_can_be_bound() -> None:
    first_ephemeral = ports._first_ephemeral()
    for _ in range(20):
        port = ports.free_port()
        assert 20_000 <= port < first_ephemeral
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_someone_listens_on_is_not_given() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        assert not ports._bindable("127.0.0.1", taken)


def test_two_processes_drawing_at_once_never_get_the_same_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each draw claims its port for ten minutes, across processes: a second draw skips it."""
    monkeypatch.setattr(ports.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(ports, "_first_ephemeral", lambda: 20_000 + 1_200)  # 1,200 ports
    with multiprocessing.get_context("fork").Pool(2) as pool:
        drawn = pool.map(_draw_many, [300, 300])
    every = [port for batch in drawn for port in batch]
    assert len(every) == len(set(every)) == 600


def test_a_claim_older_than_ten_minutes_is_given_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ports.tempfile, "gettempdir", lambda: str(tmp_path))
    assert ports._claim(20_001)
    assert not ports._claim(20_001)
    claim = tmp_path / f"teacher-hiring-ports-{os.getuid()}" / "20001"
    old = claim.stat().st_mtime - 601
    os.utime(claim, (old, old))
    assert ports._claim(20_001)


def _draw_many(count: int) -> list[int]:
    return [ports.free_port() for _ in range(count)]
