"""What processes use: peak resident memory (sampled in a background thread), CPU time."""

from __future__ import annotations

import threading

import psutil


class PeakRss:
    """Samples the RSS of processes (with their children) until stopped."""

    def __init__(self, pids: dict[str, int], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_mb: dict[str, float] = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _rss_mb(self, pid: int) -> float:
        try:
            process = psutil.Process(pid)
            processes = [process, *process.children(recursive=True)]
            return sum(p.memory_info().rss for p in processes) / 2**20
        except psutil.Error:
            return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peak_mb[name] = max(self.peak_mb[name], self._rss_mb(pid))
            self._stop.wait(self.interval)


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """Return the user + system CPU seconds each process has used so far, children included."""
    used = {}
    for name, pid in pids.items():
        try:
            times = psutil.Process(pid).cpu_times()
            used[name] = times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            used[name] = 0.0
    return used


def cpu_ms_per(before: dict[str, float], after: dict[str, float], count: int) -> dict[str, float]:
    """Return the CPU milliseconds each process spent per item between two `cpu_seconds`."""
    return {name: round(1000 * (after[name] - before[name]) / max(1, count), 2)
            for name in before}
