"""Two revisions of the platform measured in one run: this tree, and another git revision
checked out beside it in a temporary worktree. The bench's own code (load, workload, what it
reads) is this tree's either way; only the services it starts run the revision's code.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from teacher_hiring.messaging.registry import SCHEMAS_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Tree:
    """A checkout of the repository, and what to call it in the results."""

    path: Path
    label: str

    def services_env(self) -> dict[str, str]:
        """What makes a service process import this tree's code and read its event schemas."""
        return {"PYTHONPATH": str(self.path / "src"), SCHEMAS_DIR_ENV: str(self.path / "schemas")}


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def this_tree() -> Tree:
    """The working tree the bench runs from, uncommitted changes included."""
    head = _git("rev-parse", "--short=10", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return Tree(ROOT, f"{head}{' + uncommitted changes' if dirty else ''} (this tree)")


@contextmanager
def checked_out(revision: str) -> Iterator[Tree]:
    """`revision` in a temporary git worktree, removed afterwards."""
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except subprocess.CalledProcessError as exc:
        raise SystemExit(
            f"--compare-with: {revision!r} is not a commit of this repository"
        ) from exc
    with tempfile.TemporaryDirectory(prefix="th-bench-rev-") as tmp:
        path = Path(tmp) / "tree"
        _git("worktree", "add", "--detach", "--quiet", str(path), commit)
        try:
            yield Tree(path, f"{commit[:10]} ({revision})")
        finally:
            _git("worktree", "remove", "--force", str(path))


def alternating(before: Tree, after: Tree, rounds: int) -> Iterator[tuple[int, str, Tree]]:
    """(round, side, tree): both trees each round, the first one alternating (before, after;
    then after, before; ...), so that a machine slowing down or warming up over the run
    weighs on both sides alike."""
    sides = [("before", before), ("after", after)]
    for index in range(1, rounds + 1):
        for side, tree in sides if index % 2 else reversed(sides):
            yield index, side, tree


def compared(
    before: Mapping[str, float], after: Mapping[str, float], better: Mapping[str, str]
) -> list[str]:
    """The markdown table of each figure for both trees and the ratio of after to before;
    `better` says, by figure, whether lower or higher is better."""
    lines = [
        "| figure (median) | before | after | after / before | better |",
        "|---|---|---|---|---|",
    ]
    for name, was in before.items():
        now = after[name]
        ratio = now / was if was else (1.0 if now == was else float("inf"))
        lines.append(f"| {name} | {was:,.2f} | {now:,.2f} | {ratio:.2f} | {better[name]} |")
    return lines
