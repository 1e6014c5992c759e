"""What each step of a run costs: wall time, CPU time (all threads) and peak memory.

`StepCosts` is filled by `radar analyze` (nlp/pipeline.py) step by step and
printed by the profiling benchmark (bench/profile_analyze.py). CPU time is the
process's user + system time from getrusage, so it includes every thread
(ONNX Runtime, torch, DuckDB); peak RSS is the process's high-water mark after
the step, so the step where it jumps is the step that needed the memory.
`cores_busy` samples how many cores the process keeps busy, second by second, which
shows where a run whose steps overlap in threads leaves a core idle.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def cpu_seconds() -> float:
    """User + system CPU time of this process so far, all threads."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def thread_cpu_seconds() -> float:
    """CPU time of the calling thread only (Linux), else of the process."""
    who = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def rss_mb() -> float:
    """The process's resident set size now, in MB (Linux; elsewhere the peak)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 / (1024 if sys.platform == "darwin" else 1)


@dataclass
class StepCost:
    """One step's totals (a step may run several times, e.g. once per batch)."""

    wall: float = 0.0
    cpu: float = 0.0
    peak_rss_mb: float = 0.0
    rss_mb: float = 0.0  # resident after the step: what the step left held
    calls: int = 0


@dataclass
class StepCosts:
    """Costs per named step, in the order steps first ran."""

    steps: dict[str, StepCost] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the enclosed block and add it to step `name`."""
        w0, c0 = time.perf_counter(), cpu_seconds()
        try:
            yield
        finally:
            cost = self.steps.setdefault(name, StepCost())
            cost.wall += time.perf_counter() - w0
            cost.cpu += cpu_seconds() - c0
            cost.peak_rss_mb, cost.rss_mb = peak_rss_mb(), rss_mb()
            cost.calls += 1

    def add(self, name: str, wall: float, cpu: float) -> None:
        """Add a measured block to step `name` (for steps that overlap in threads)."""
        cost = self.steps.setdefault(name, StepCost())
        cost.wall += wall
        cost.cpu += cpu
        cost.peak_rss_mb, cost.rss_mb = peak_rss_mb(), rss_mb()
        cost.calls += 1

    def as_dict(self) -> dict[str, dict[str, float]]:
        """Plain numbers (for JSON)."""
        return {k: {"wall": round(v.wall, 3), "cpu": round(v.cpu, 3),
                    "peak_rss_mb": round(v.peak_rss_mb, 1), "rss_mb": round(v.rss_mb, 1),
                    "calls": v.calls}
                for k, v in self.steps.items()}


@contextmanager
def cores_busy(interval: float = 1.0) -> Iterator[list[tuple[float, float]]]:
    """For the block, every `interval` seconds, how many cores this process kept busy since
    the sample before (its CPU time over the wall time, all threads, those that ended
    included): a list of (seconds since the start, cores busy), filled by a daemon thread."""
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        t0 = last_t = time.perf_counter()
        last_c = cpu_seconds()
        while not stop.wait(interval):
            now, cpu = time.perf_counter(), cpu_seconds()
            samples.append((round(now - t0, 2), round((cpu - last_c) / max(now - last_t, 1e-9), 2)))
            last_t, last_c = now, cpu

    thread = threading.Thread(target=sample, name="cores-busy", daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()
