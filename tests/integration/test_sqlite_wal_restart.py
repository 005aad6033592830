"""A service's SQLite WAL starts over under steady traffic (runtime/db.checkpoint).

With snapshot readers always open somewhere, as under steady requests, the WAL cannot start
over by itself: it grows for as long as the traffic lasts, and every page read searches an
index that grows with it. The background checkpoint RESTARTs it past WAL_RESTART_FRAMES.
Real SQLite, real threads: readers that overlap, a writer committing meanwhile.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from teacher_hiring.foundation.sql import read_only
from teacher_hiring.runtime import db

pytestmark = pytest.mark.integration

ROW = b"x" * 3000  # about a page per commit
COMMITS = 4000


def wal_bytes_after_traffic(path: Path, restart_frames: int) -> int:
    """Largest the WAL got while two overlapping readers and one writer ran."""
    db.WAL_RESTART_FRAMES = restart_frames
    engine = db.make_engine(f"sqlite:///{path}", background_checkpoints=True)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    stop = threading.Event()

    def read(offset_s: float) -> None:
        time.sleep(offset_s)
        while not stop.is_set():
            with read_only(engine) as conn:
                conn.exec_driver_sql("SELECT max(id) FROM t").scalar()
                time.sleep(0.002)  # a request's snapshot: milliseconds

    readers = [threading.Thread(target=read, args=(s,), daemon=True) for s in (0, 0.001)]
    for reader in readers:
        reader.start()
    time.sleep(0.05)
    largest = 0
    try:
        for n in range(COMMITS):
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO t (body) VALUES (:b)"), {"b": ROW})
            if n % 50 == 49:  # the background thread's turn
                db.checkpoint(engine)
                largest = max(largest, os.path.getsize(f"{path}-wal"))
    finally:
        stop.set()
        for reader in readers:
            reader.join(10)
        db.dispose(engine)
    return largest


def test_the_wal_starts_over_under_steady_readers(tmp_path: Path) -> None:
    default = db.WAL_RESTART_FRAMES
    try:
        bounded = wal_bytes_after_traffic(tmp_path / "restarted.db", restart_frames=256)
        # The same traffic without restarts, to show what the bound is against.
        grown = wal_bytes_after_traffic(tmp_path / "passive.db", restart_frames=10**9)
    finally:
        db.WAL_RESTART_FRAMES = default
    assert bounded < 4 * 256 * 4096 + 512 * 4096, f"WAL grew to {bounded:,} bytes"
    assert grown > 3 * bounded, f"without restarts the WAL stayed at {grown:,} bytes"
