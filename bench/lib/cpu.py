"""CPU-seconds per component of a run, from /proc: the services, Kafka, PostgreSQL, this
process (with its children: the raw clients' processes, py-spy) and whatever else ran."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bench.lib.kafka_pg import KAFKA_PIDFILE, PG_PIDFILE
from teacher_hiring.runtime.processes import ServiceProcess

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float | None:
    """CPU seconds (user + system) a process has spent so far; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def _pid_from(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _machine_busy() -> float:
    """CPU-seconds the whole machine spent busy (every core)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / _TICKS


@dataclass
class CpuMeter:
    """CPU-seconds of each component over a stage: the services, Kafka, PostgreSQL, the rest."""

    services: dict[str, ServiceProcess]
    kafka_pidfile: Path = KAFKA_PIDFILE  # the broker the stages run on

    def pids(self) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for label, process in self.services.items():
            if process.process is not None and process.running():
                groups.setdefault(label.split("-")[0], []).append(process.process.pid)
        services = {pid for pids in groups.values() for pid in pids}
        # This script, and py-spy when it runs (both children of this process).
        mine = [pid for pid in _children(os.getpid()) if pid not in services]
        groups["bench"] = [os.getpid(), *mine]
        kafka = _pid_from(self.kafka_pidfile)
        if kafka:
            groups["kafka"] = [kafka]
        postmaster = _pid_from(PG_PIDFILE)
        if postmaster:
            groups["postgres"] = [postmaster, *_children(postmaster)]
        return groups

    def snapshot(self) -> tuple[dict[str, dict[int, float]], float]:
        taken = {
            group: {pid: cpu for pid in pids if (cpu := cpu_of(pid)) is not None}
            for group, pids in self.pids().items()
        }
        return taken, _machine_busy()

    @staticmethod
    def since(
        before: tuple[dict[str, dict[int, float]], float],
        after: tuple[dict[str, dict[int, float]], float],
    ) -> dict[str, float]:
        used = {
            group: sum(cpu - before[0].get(group, {}).get(pid, 0.0) for pid, cpu in pids.items())
            for group, pids in after[0].items()
        }
        used["other"] = max(0.0, after[1] - before[1] - sum(used.values()))
        used["machine"] = after[1] - before[1]
        return used
