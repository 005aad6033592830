"""A child that follows its parent (runtime.parent_death), for test_parent_death.py.

`python parent_follower.py FOLDER POLL_S HARD_EXIT_S term|ignore`: it writes FOLDER/ready once
it follows its parent, and FOLDER/stopped when SIGTERM stops it cleanly (with `ignore` it
ignores SIGTERM, as a stop that hangs).
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType

from teacher_hiring.runtime import parent_death

folder = Path(sys.argv[1])
parent_death.POLL_S = float(sys.argv[2])
parent_death.HARD_EXIT_AFTER_S = float(sys.argv[3])


def stop(_signum: int, _frame: FrameType | None) -> None:
    (folder / "stopped").write_text("SIGTERM")
    sys.exit(0)


signal.signal(signal.SIGTERM, signal.SIG_IGN if sys.argv[4] == "ignore" else stop)
parent_death.follow_parent()
(folder / "ready").write_text("following")
time.sleep(600)
